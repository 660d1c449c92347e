"""Where media bytes live: content-addressed files under the region's media root."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, extension: str, prefix: str) -> str:
        """Store bytes once per content; returns the relative path. Written atomically."""
        digest = hashlib.sha256(data).hexdigest()
        relative = f"{prefix}/{digest[:2]}/{digest[2:4]}/{digest}.{extension}"
        target = self.root / relative
        if target.exists():
            return relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return relative
