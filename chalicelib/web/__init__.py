"""The agent desk's web UI: static files served by the API itself at `/` and `/ui/<name>`.

Only files in this folder with a known type are served (no paths, no dotfiles), read once per
container. Nothing is fetched from a CDN: the UI works on a closed network.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

FOLDER = Path(__file__).resolve().parent
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json",
         ".ico": "image/x-icon"}


@lru_cache(maxsize=64)
def asset(name: str) -> Optional[tuple[str, str]]:
    path = FOLDER / name
    content_type = TYPES.get(path.suffix)
    if content_type is None or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        return None
    return path.read_text(encoding="utf-8"), content_type
