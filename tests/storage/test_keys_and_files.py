"""API keys (hashed keys file, env keys) and the size-limited file writer."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from earmark.errors import NotFoundError, PayloadTooLargeError
from earmark.storage.files import FileStore
from earmark.storage.keys import KeyRing, KeysFile, hash_key


def test_keys_file_stores_hashes_only(tmp_path: Path) -> None:
    kf = KeysFile(tmp_path / "keys.json")
    record, key = kf.create("ci")
    text = kf.path.read_text()
    assert key not in text and hash_key(key) in text
    assert stat.S_IMODE(kf.path.stat().st_mode) == 0o600
    assert record.prefix == key[: len(record.prefix)] and record.name == "ci"
    ring = KeyRing("", kf)
    assert ring.configured()
    assert ring.owner_of(key) == record.id
    assert ring.owner_of(key + "x") is None


def test_revoke_is_seen_without_restart(tmp_path: Path) -> None:
    kf = KeysFile(tmp_path / "keys.json")
    ring = KeyRing("", KeysFile(kf.path))  # a second reader, like a running server
    first, key = kf.create()
    kf.create()
    assert ring.owner_of(key) == first.id
    assert kf.revoke(first.id[:6]).revoked
    assert ring.owner_of(key) is None
    with pytest.raises(NotFoundError):
        kf.revoke("zzzz")


def test_env_keys_and_open_mode(tmp_path: Path) -> None:
    empty = KeyRing("", KeysFile(tmp_path / "none.json"))
    assert not empty.configured()
    ring = KeyRing(" a-key , b-key ", KeysFile(tmp_path / "none.json"))
    assert ring.configured()
    a, b = ring.owner_of("a-key"), ring.owner_of("b-key")
    assert a and b and a != b
    assert ring.owner_of("c-key") is None


def test_sized_writer_limits_and_cleans_up(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    with files.upload_writer("ok", 10) as w:
        w.write(b"12345")
        path = w.commit()
    assert path.read_bytes() == b"12345"
    with pytest.raises(PayloadTooLargeError), files.upload_writer("big", 10) as w:
        w.write(b"123456")
        w.write(b"789012")
    assert not (files.uploads / "big").exists()
    assert not (files.uploads / "big.part").exists()
    (files.tmp / "left-over").write_bytes(b"x")
    files.clean_tmp()
    assert list(files.tmp.iterdir()) == []
