"""Generate-once secrets kept under var/secrets when the environment does not supply them."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def load_or_create_secret(path: Path, *, nbytes: int) -> str:
    """Return the base64 secret stored at *path*, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (web or worker) created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
