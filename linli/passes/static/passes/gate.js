// The checkpoint phone: check pass codes offline, queue scans, send each once when online.
//
// A code is "LP1.<body>.<signature>" (linli/passes/signing.py). The page carries the public
// keys per key version and the estate's revocation list; the check needs no network. Every
// scan gets a client id, waits in localStorage and is posted with that id as Idempotency-Key,
// so a retry after a lost answer is stored once by the server.
const me = document.getElementById("gate-js");
const ed = await import(me.dataset.noble);
const data = JSON.parse(document.getElementById("gate-data").textContent);
const T = JSON.parse(document.getElementById("gate-texts").textContent);
const QUEUE = `linli-gate-queue-${data.checkpoint}`;
const SENT = `linli-gate-sent-${data.checkpoint}`;
const SYNC_URL = `${location.pathname.replace(/\/$/, "")}/scans/`;
const revoked = new Set(data.revoked.map(Number));
const closed = new Set((data.closed || []).map(Number)); // closed with their event: a reason of its own
const $ = (id) => document.getElementById(id);

function b64(s) {
  s = s.replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
function esc(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
function load(key) { try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch { return []; } }
function save(key, value) { localStorage.setItem(key, JSON.stringify(value)); }

async function verify(token) {
  const parts = token.trim().split(".");
  if (parts.length !== 3 || parts[0] !== "LP1") return { ok: false, reason: "malformed" };
  let raw, sig, f;
  try {
    raw = b64(parts[1]); sig = b64(parts[2]);
    f = new TextDecoder("utf-8", { fatal: true }).decode(raw).split("|");
  } catch { return { ok: false, reason: "malformed" }; }
  if (f.length !== 8 || f[0] !== "1") return { ok: false, reason: "malformed" };
  const body = { id: Number(f[1]), kind: f[2], estate: Number(f[3]), from: Number(f[4]),
    until: Number(f[5]), keyVersion: f[6], holder: f[7] };
  const key = data.keys[body.keyVersion];
  if (!key) return { ok: false, reason: "unknown_key" };
  let good = false;
  try { good = await ed.verifyAsync(sig, raw, b64(key)); } catch { good = false; }
  if (!good) return { ok: false, reason: "bad_signature" };
  const now = Date.now() / 1000;
  if (now < body.from) return { ok: false, reason: "not_yet_valid", body };
  if (now >= body.until) return { ok: false, reason: "expired", body };
  if (body.estate !== data.estate) return { ok: false, reason: "wrong_estate", body };
  if (closed.has(body.id)) return { ok: false, reason: "closed", body };
  if (revoked.has(body.id)) return { ok: false, reason: "revoked", body };
  return { ok: true, reason: "", body };
}

function show(result) {
  const v = $("verdict");
  v.className = "verdict mt-3 " + (result.ok ? "verdict-ok" : "verdict-bad");
  v.dataset.result = result.ok ? "ok" : "refused";
  v.dataset.reason = result.reason;
  let html = `<div class="verdict-word">${result.ok ? "✓" : "✗"} ${esc(result.ok ? T.ok : T.refused)}</div>`;
  if (result.body) html += `<div class="verdict-holder" id="verdict-holder">${esc(result.body.holder)}</div>`;
  if (!result.ok) html += `<div class="fs-5 mt-1" id="verdict-reason">${esc(T[result.reason] || result.reason)}</div>`;
  if (data.health_on && result.ok) {
    const colour = data.colours[String(result.body.id)] || "";
    html += `<div class="health-badge health-${colour || "none"}" id="verdict-health" data-colour="${colour}">${esc(T.health)}: ${esc(colour ? T[colour] : T.none)}</div>`;
  }
  v.innerHTML = html;
}

function counts() {
  $("queue-count").textContent = load(QUEUE).length;
  $("sent-count").textContent = load(SENT).length;
  const online = navigator.onLine;
  const state = $("net-state");
  state.dataset.online = online ? "1" : "0";
  state.textContent = online ? T.online : T.offline;
  state.className = "small " + (online ? "text-success" : "text-danger fw-bold");
}

function log(text, cls) {
  const li = document.createElement("li");
  li.className = "list-group-item " + (cls || "");
  li.textContent = text;
  $("scan-log").prepend(li);
}

let flushing = false;
async function flush() {
  if (flushing || !navigator.onLine) { counts(); return; }
  flushing = true;
  try {
    let queue = load(QUEUE);
    while (queue.length) {
      const item = queue[0];
      let answer;
      try {
        answer = await fetch(SYNC_URL, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": me.dataset.csrf, "Idempotency-Key": item.client_id },
          body: JSON.stringify(item),
        });
      } catch { break; } // still no network: keep the queue, try again later
      if (answer.status >= 500) break;
      const body = await answer.json().catch(() => ({}));
      queue = load(QUEUE).filter((q) => q.client_id !== item.client_id);
      save(QUEUE, queue);
      if (answer.ok) {
        const sent = load(SENT); sent.push(item.client_id); save(SENT, sent.slice(-500));
        log(`${T.synced} · ${T[item.direction]} · ${T.server_says}: ${body.result === "ok" ? T.ok : T.refused}${body.reason ? " (" + (T[body.reason] || body.reason) + ")" : ""}`,
          body.result === "ok" ? "" : "list-group-item-danger");
      } else {
        log(`${answer.status}: ${body.detail || ""}`, "list-group-item-warning");
      }
    }
  } finally { flushing = false; counts(); }
}

async function check(token) {
  token = token.trim();
  if (!token) return;
  if (!(crypto && crypto.subtle)) { show({ ok: false, reason: "unsupported" }); return; }
  const result = await verify(token);
  show(result);
  const item = {
    client_id: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`,
    token, direction: document.querySelector("input[name=direction]:checked").value,
    scanned_at: new Date().toISOString(), offline: !navigator.onLine,
  };
  const queue = load(QUEUE); queue.push(item); save(QUEUE, queue);
  counts();
  flush();
}

$("check").addEventListener("click", () => check($("code").value));
$("code").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); check($("code").value); } });
window.addEventListener("online", flush);
window.addEventListener("offline", counts);
setInterval(flush, 5000);
counts();
flush();

// The camera: decode frames with jsQR until a code is found.
$("camera").addEventListener("click", async () => {
  const video = $("camera-view");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.jsQR) { log(T.no_camera, "list-group-item-warning"); return; }
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }); }
  catch { log(T.no_camera, "list-group-item-warning"); return; }
  video.srcObject = stream; video.classList.remove("d-none"); await video.play();
  const canvas = $("camera-frame"); const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const tick = () => {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
      if (found && found.data.startsWith("LP1.")) {
        stream.getTracks().forEach((t) => t.stop()); video.classList.add("d-none");
        $("code").value = found.data; check(found.data); return;
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
});
