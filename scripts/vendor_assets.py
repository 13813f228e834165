"""Copy the front-end assets Linli serves from node_modules into linli/static/vendor.

Run by `make setup` after `npm ci`. Only the files the pages load are copied, so the
static tree stays small and nothing is fetched from a CDN at run time.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
DEST = ROOT / "linli" / "static" / "vendor"

FILES: dict[str, str] = {
    "bootstrap/dist/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "bootstrap/dist/js/bootstrap.bundle.min.js": "bootstrap/bootstrap.bundle.min.js",
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
    "leaflet/dist/leaflet.js": "leaflet/leaflet.js",
    "leaflet/dist/leaflet.css": "leaflet/leaflet.css",
    "leaflet/dist/images": "leaflet/images",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
    # The checkpoint phone page: Ed25519 checks and QR decoding with no network.
    "@noble/ed25519/index.js": "noble-ed25519/ed25519.js",
    "jsqr/dist/jsQR.js": "jsqr/jsQR.js",
}


def main() -> int:
    missing = [src for src in FILES if not (NODE / src).exists()]
    if missing:
        print("missing front-end packages (run `npm ci`):", ", ".join(missing), file=sys.stderr)
        return 1
    for src, dst in FILES.items():
        source, target = NODE / src, DEST / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    print(f"front-end assets copied to {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
