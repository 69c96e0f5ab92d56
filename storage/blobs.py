"""Content-addressed blob store: a blob's name is the sha256 of its bytes, so storing the same
file twice keeps one copy and a reference can never point at changed content.

`LocalBlobStore` keeps blobs under a folder (`<data_dir>/blobs/ab/cd/<sha256>`). An
S3-compatible backend implements the same three methods (`put` as a PUT of key `<sha256>`
with the content type, `get` as a GET, `exists` as a HEAD) and is chosen where the runtime
creates the store; services only see `BlobStore`.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from p2p.errors import NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    size: int
    content_type: str


class BlobNotFound(NotFound):
    """No blob has this sha256."""
    code = "blob.not_found"


class BlobStore:
    """The interface every backend implements; methods are async so network stores fit."""

    async def put(self, data: bytes, content_type: str) -> BlobRef:
        raise NotImplementedError

    async def get(self, sha256: str) -> bytes:
        raise NotImplementedError

    async def exists(self, sha256: str) -> bool:
        raise NotImplementedError


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise BlobNotFound("Not a sha256 blob name.", sha256=sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, data: bytes, content_type: str) -> BlobRef:
        digest = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, self.path(digest), data)
        return BlobRef(digest, len(data), content_type)

    async def get(self, sha256: str) -> bytes:
        try:
            return await asyncio.to_thread(self.path(sha256).read_bytes)
        except FileNotFoundError:
            raise BlobNotFound("No such blob.", sha256=sha256) from None

    async def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        if target.is_file():
            return  # same name, same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        # A temp file in the same folder, then an atomic rename: readers see all or nothing.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
