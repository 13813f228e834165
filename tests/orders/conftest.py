"""Work order fixtures: attachments go to a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def order_files(settings: Any, tmp_path: Path) -> Path:
    settings.LINLI_ORDER_FILES_DIR = tmp_path / "order-files"
    return settings.LINLI_ORDER_FILES_DIR
