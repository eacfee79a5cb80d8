"""The key file: key-encryption keys, the blind-index root key and the audit key.

It lives outside the database and the repository (REGISTER_KEYS_FILE; development uses
instance/keys.json, created exclusively with mode 0600). Keys are 32 random bytes, base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from register.crypto.errors import KeyringError

FORMAT = "register-keys-v1"
KEY_LENGTH = 32


def new_key() -> bytes:
    """32 random bytes."""
    return secrets.token_bytes(KEY_LENGTH)


def new_kek_id() -> str:
    """An id for a new key-encryption key: its date and a random suffix."""
    return f"kek-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def _encode(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _decode(value: object, what: str, path: Path) -> bytes:
    if not isinstance(value, str):
        raise KeyringError(f"{path}: {what} is missing")
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyringError(f"{path}: {what} is not valid base64") from exc
    if len(key) != KEY_LENGTH:
        raise KeyringError(f"{path}: {what} must be {KEY_LENGTH} bytes, not {len(key)}")
    return key


@dataclass
class Keyring:
    """The keys of one key file. Holds secrets: it has no repr that shows them."""

    path: Path
    key_encryption_keys: dict[str, bytes] = field(repr=False)
    active_kek_id: str
    blind_index_key: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)
    loaded_mtime: float = 0.0

    def kek(self, kek_id: str) -> bytes:
        """The key-encryption key `kek_id`, naming it when it is not in the file."""
        try:
            return self.key_encryption_keys[kek_id]
        except KeyError:
            raise KeyringError(
                f"key-encryption key {kek_id!r} is not in the key file {self.path}"
            ) from None

    @property
    def active_kek(self) -> bytes:
        """The key-encryption key that wraps new data keys."""
        return self.kek(self.active_kek_id)

    def to_json(self) -> str:
        """The file's contents."""
        return json.dumps(
            {
                "format": FORMAT,
                "key_encryption_keys": {
                    kek_id: _encode(key) for kek_id, key in self.key_encryption_keys.items()
                },
                "active_key_encryption_key": self.active_kek_id,
                "blind_index_key": _encode(self.blind_index_key),
                "audit_key": _encode(self.audit_key),
            },
            indent=2,
        )


def generate(path: Path) -> Keyring:
    """A new keyring with one key-encryption key (not yet written anywhere)."""
    kek_id = new_kek_id()
    return Keyring(
        path=path,
        key_encryption_keys={kek_id: new_key()},
        active_kek_id=kek_id,
        blind_index_key=new_key(),
        audit_key=new_key(),
    )


def write_secret_file(path: Path, content: str) -> bool:
    """Create `path` exclusively with mode 0600, durably; False if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    _sync_directory(path.parent)
    return True


def create_file(path: Path) -> Keyring | None:
    """Write a new key file exclusively (mode 0600); None when the file already exists."""
    if not write_secret_file(path, generate(path).to_json() + "\n"):
        return None
    return load(path)


def save(keyring: Keyring) -> None:
    """Replace the key file atomically (write a 0600 temporary file, then rename)."""
    directory = keyring.path.parent
    fd, temporary = tempfile.mkstemp(prefix=".keys-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keyring.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, keyring.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(directory)
    keyring.loaded_mtime = keyring.path.stat().st_mtime


def _sync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (survives a power loss)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load(path: Path) -> Keyring:
    """Read and check a key file; every problem names the file and the missing part."""
    try:
        raw = path.read_text(encoding="utf-8")
        info = path.stat()
    except FileNotFoundError:
        raise KeyringError(
            f"the key file {path} does not exist (development: run `flask --app register dev "
            "init`; production: set REGISTER_KEYS_FILE to the file `keys generate` wrote)"
        ) from None
    except OSError as exc:
        raise KeyringError(f"the key file {path} cannot be read: {exc.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(f"the key file {path} must be readable by its owner only (chmod 600)")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise KeyringError(f"the key file {path} is not valid JSON") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KeyringError(f"the key file {path} is not in the {FORMAT} format")
    keks = data.get("key_encryption_keys")
    if not isinstance(keks, dict) or not keks:
        raise KeyringError(f"{path}: key_encryption_keys is missing")
    decoded = {
        str(kek_id): _decode(value, f"key-encryption key {kek_id!r}", path)
        for kek_id, value in keks.items()
    }
    active = data.get("active_key_encryption_key")
    if active not in decoded:
        raise KeyringError(f"{path}: active_key_encryption_key {active!r} is not among the keys")
    return Keyring(
        path=path,
        key_encryption_keys=decoded,
        active_kek_id=str(active),
        blind_index_key=_decode(data.get("blind_index_key"), "blind_index_key", path),
        audit_key=_decode(data.get("audit_key"), "audit_key", path),
        loaded_mtime=info.st_mtime,
    )
