"""API keys: the keys file managed by ``earmark keys`` plus keys given in the environment.

The keys file (JSON, mode 0600) stores only SHA-256 hashes of the keys; a key is shown once,
when it is created. A key's ``id`` is what owns the transcripts made with it, so revoking a
key hides its transcripts from every other key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from earmark.errors import InputError, NotFoundError
from earmark.storage.base import utc_now

__all__ = ["ApiKey", "KeyRing", "KeysFile", "hash_key"]

KEY_PREFIX = "em_"


def hash_key(key: str) -> str:
    """The hex SHA-256 of a key (keys are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """One key as stored: never the key itself."""

    id: str
    name: str
    sha256: str
    prefix: str
    created: str
    revoked: str | None = None


class KeysFile:
    """The JSON keys file. Reads are cached by modification time, so a running server
    sees keys created or revoked by ``earmark keys`` without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: tuple[ApiKey, ...] = ()

    def load(self) -> tuple[ApiKey, ...]:
        """All keys in the file (revoked ones included)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return ()
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                try:
                    raw = json.loads(self.path.read_text(encoding="utf-8") or "{}")
                except (OSError, ValueError) as exc:
                    raise InputError(f"{self.path}: unreadable keys file: {exc}") from exc
                self._keys = tuple(ApiKey(**k) for k in raw.get("keys", ()))
                self._stamp = stamp
            return self._keys

    def create(self, name: str = "") -> tuple[ApiKey, str]:
        """Make a new key; returns its record and the key itself (shown only now)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(
            id=secrets.token_hex(6),
            name=name,
            sha256=hash_key(key),
            prefix=key[: len(KEY_PREFIX) + 4],
            created=utc_now(),
        )
        self._save((*self.load(), record))
        return record, key

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by id (or unique id prefix)."""
        keys = list(self.load())
        matches = [i for i, k in enumerate(keys) if k.id.startswith(key_id)] if key_id else []
        if len(matches) != 1:
            raise NotFoundError(
                f"no key with id {key_id!r}" if not matches else f"key id {key_id!r} is ambiguous"
            )
        old = keys[matches[0]]
        keys[matches[0]] = ApiKey(**{**asdict(old), "revoked": old.revoked or utc_now()})
        self._save(tuple(keys))
        return keys[matches[0]]

    def _save(self, keys: tuple[ApiKey, ...]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"keys": [asdict(k) for k in keys]}, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)


class KeyRing:
    """Every accepted key: those in the environment and the live ones in the keys file."""

    def __init__(self, env_keys: str, keys_file: KeysFile) -> None:
        self.keys_file = keys_file
        self._env = {hash_key(k): "env-" + hash_key(k)[:12] for k in _split(env_keys)}

    def configured(self) -> bool:
        """Whether any key exists (no keys means open access, allowed only on loopback)."""
        return bool(self._env) or any(k.revoked is None for k in self.keys_file.load())

    def owner_of(self, key: str) -> str | None:
        """The owner id for a presented key, or ``None`` if the key is not accepted."""
        digest = hash_key(key)
        for known, owner in self._env.items():
            if hmac.compare_digest(known, digest):
                return owner
        for k in self.keys_file.load():
            if k.revoked is None and hmac.compare_digest(k.sha256, digest):
                return k.id
        return None


def _split(value: str) -> list[str]:
    return [k.strip() for k in value.split(",") if k.strip()]
