// A small SMSC for tests, built on the npm package `smpp` (an independent SMPP 3.4
// implementation): it takes binds, answers submit_sm with a message id, reassembles
// concatenated (UDH) messages, sends a delivery receipt (deliver_sm) for each part and
// answers enquire_link and unbind. Everything it sees goes to stdout as one JSON line each.
//
// node smsc_peer.js PASSWORD [--refuse-binds N] [--drop-submits N] [--hold-receipts]
//   refuse-binds: answer the first N binds with ESME_RBINDFAIL
//   drop-submits: close the connection on the first N submit_sm instead of answering
//   hold-receipts: keep each receipt until the next session binds and deliver it there
//     (a receipt that comes back after the sender has gone, as real SMSCs do hours later)
// Destinations starting with 1380000 get an UNDELIV receipt; all others DELIVRD.
'use strict';
const smpp = require('smpp');

const password = process.argv[2];
const opt = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? parseInt(process.argv[i + 1], 10) : 0;
};
let refuseBinds = opt('--refuse-binds');
let dropSubmits = opt('--drop-submits');
const holdReceipts = process.argv.includes('--hold-receipts');
const held = []; // receipts waiting for the next bind: functions of the session
let nextId = 1000;
const pending = new Map(); // concat ref → parts
const log = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const stamp = () => {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
};

const server = smpp.createServer({}, (session) => {
  const onBind = (pdu) => {
    const ok = pdu.password === password && refuseBinds <= 0;
    if (refuseBinds > 0) refuseBinds -= 1;
    log({ event: 'bind', command: pdu.command, system_id: pdu.system_id, ok });
    if (!ok) {
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    session.send(pdu.response({ system_id: 'peer' }));
    if (pdu.command === 'bind_transceiver') held.splice(0).forEach((deliver) => deliver(session));
  };
  session.on('bind_transceiver', onBind);
  session.on('bind_transmitter', onBind);
  session.on('enquire_link', (pdu) => {
    log({ event: 'enquire_link' });
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    log({ event: 'unbind' });
    session.send(pdu.response());
    session.close();
  });
  session.on('error', () => {});
  session.on('submit_sm', (pdu) => {
    if (dropSubmits > 0) {
      dropSubmits -= 1;
      log({ event: 'dropped', to: pdu.destination_addr });
      session.destroy();
      return;
    }
    const id = String(nextId++);
    const sm = pdu.short_message || {};
    const text = typeof sm.message === 'string' ? sm.message : String(sm.message || '');
    const udh = (sm.udh || []).map((b) => b.toString('hex'));
    log({ event: 'submit', to: pdu.destination_addr, id, data_coding: pdu.data_coding,
      esm_class: pdu.esm_class, registered_delivery: pdu.registered_delivery, udh, text });
    session.send(pdu.response({ message_id: id }));
    // Reassemble concatenated messages (IE 0x00: ref, total, seq).
    const concat = (sm.udh || []).find((b) => b[0] === 0x00);
    if (concat) {
      const key = `${pdu.destination_addr}:${concat[2]}`;
      const parts = pending.get(key) || [];
      parts[concat[4] - 1] = text;
      pending.set(key, parts);
      if (parts.filter((x) => x !== undefined).length === concat[3]) {
        pending.delete(key);
        log({ event: 'message', to: pdu.destination_addr, parts: concat[3], text: parts.join('') });
      }
    } else {
      log({ event: 'message', to: pdu.destination_addr, parts: 1, text });
    }
    if (pdu.registered_delivery & 0x01) {
      const stat = String(pdu.destination_addr).startsWith('1380000') ? 'UNDELIV' : 'DELIVRD';
      const now = stamp();
      const deliver = (to) => {
        to.deliver_sm({
          source_addr: pdu.destination_addr,
          destination_addr: pdu.source_addr,
          esm_class: 0x04,
          short_message: `id:${id} sub:001 dlvr:${stat === 'DELIVRD' ? '001' : '000'} ` +
            `submit date:${now} done date:${now} stat:${stat} err:000 text:`,
          receipted_message_id: id,
          message_state: stat === 'DELIVRD' ? 2 : 5,
        });
        log({ event: 'receipt', id, stat });
      };
      if (holdReceipts) held.push(deliver);
      else setTimeout(() => deliver(session), 20);
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  log({ event: 'listening', port: server.address().port });
});
process.stdin.on('end', () => process.exit(0)); // the test closes stdin to stop us
process.stdin.resume();
