"""The local content-addressed blob store."""
from __future__ import annotations

import asyncio
import hashlib

import pytest

from storage.blobs import BlobNotFound, BlobRef, BlobStore, LocalBlobStore


def run(coro):
    return asyncio.run(coro)


def test_put_names_a_blob_by_its_sha256_and_get_returns_the_bytes(tmp_path):
    store = LocalBlobStore(tmp_path)
    ref = run(store.put(b"hello", "text/plain"))
    assert ref == BlobRef(hashlib.sha256(b"hello").hexdigest(), 5, "text/plain")
    assert run(store.get(ref.sha256)) == b"hello" and run(store.exists(ref.sha256))
    assert store.path(ref.sha256).relative_to(tmp_path).parts[:2] == (ref.sha256[:2], ref.sha256[2:4])


def test_the_same_bytes_are_stored_once_and_no_temp_file_is_left(tmp_path):
    store = LocalBlobStore(tmp_path)
    a, b = run(store.put(b"x" * 1000, "a/b")), run(store.put(b"x" * 1000, "a/b"))
    assert a.sha256 == b.sha256
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [a.sha256]


def test_an_unknown_or_malformed_name_is_not_found(tmp_path):
    store = LocalBlobStore(tmp_path)
    assert not run(store.exists("0" * 64))
    with pytest.raises(BlobNotFound):
        run(store.get("0" * 64))
    with pytest.raises(BlobNotFound):
        run(store.get("../../etc/passwd"))


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    store = LocalBlobStore(tmp_path)

    def broken(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("storage.blobs.os.replace", broken)
    with pytest.raises(OSError):
        run(store.put(b"data", "a/b"))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_local_store_is_a_blob_store():
    assert issubclass(LocalBlobStore, BlobStore)


def test_the_runtime_creates_the_store_under_the_data_dir(platform):
    blobs = platform.runtime.blobs
    assert blobs is platform.runtime.blobs and blobs.root == platform.runtime.settings.data_dir / "blobs"
