"""AES-256-GCM encryption of personal data at rest, with key versions for rotation.

Ciphertext format: ``v<version>:<base64(nonce ‖ ciphertext ‖ tag)>``. Keys come from
``settings.PROFILE_ENCRYPTION_KEYS`` ("2:<hex>,1:<hex>", first = current) or the single
``PROFILE_ENCRYPTION_KEY`` (version 1).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    code = "DECRYPTION_FAILED"


def parse_keys(spec: str) -> tuple[int, dict[int, bytes]]:
    keys: dict[int, bytes] = {}
    current = None
    for part in filter(None, (p.strip() for p in spec.split(","))):
        version_text, _, hex_key = part.partition(":")
        try:
            version = int(version_text)
            key = bytes.fromhex(hex_key)
        except ValueError as exc:
            raise ImproperlyConfigured(
                "PROFILE_ENCRYPTION_KEYS must look like '2:<64 hex>,1:<64 hex>'"
            ) from exc
        if len(key) != 32:
            raise ImproperlyConfigured("PROFILE_ENCRYPTION_KEY must be 64 hex characters")
        keys[version] = key
        current = version if current is None else current
    if current is None:
        raise ImproperlyConfigured("PROFILE_ENCRYPTION_KEY is not set")
    return current, keys


@lru_cache(maxsize=4)
def _keyring(spec: str) -> tuple[int, dict[int, bytes]]:
    return parse_keys(spec)


def keyring() -> tuple[int, dict[int, bytes]]:
    return _keyring(settings.PROFILE_ENCRYPTION_KEYS)


def current_version() -> int:
    return keyring()[0]


def encrypt_text(plaintext: str) -> str:
    version, keys = keyring()
    nonce = os.urandom(12)
    sealed = AESGCM(keys[version]).encrypt(nonce, plaintext.encode(), f"v{version}".encode())
    return f"v{version}:" + base64.b64encode(nonce + sealed).decode()


def token_version(token: str) -> int:
    head, _, _ = token.partition(":")
    if not head.startswith("v"):
        raise DecryptionError("not an encrypted value")
    try:
        return int(head[1:])
    except ValueError as exc:
        raise DecryptionError("bad key version") from exc


def decrypt_text(token: str) -> str:
    version = token_version(token)
    _, keys = keyring()
    if version not in keys:
        raise DecryptionError(f"key version {version} is not configured")
    try:
        raw = base64.b64decode(token.partition(":")[2], validate=True)
        plain = AESGCM(keys[version]).decrypt(raw[:12], raw[12:], f"v{version}".encode())
    except Exception as exc:
        raise DecryptionError("ciphertext rejected") from exc
    return plain.decode()


def encrypt_json(data: dict) -> str:
    return encrypt_text(json.dumps(data, ensure_ascii=False, sort_keys=True))


def decrypt_json(token: str) -> dict:
    return json.loads(decrypt_text(token))


# Columns holding `encrypt_text`/`encrypt_json` tokens, as ("app_label.Model", "field").
# `manage.py rotate_encryption_key` re-encrypts every one of them; other apps append their own
# (e.g. an order's address snapshot) from their AppConfig.ready().
ENCRYPTED_FIELDS: list[tuple[str, str]] = [("accounts.User", "shipping_address_encrypted")]
# Optional integer column kept equal to the token's key version, per registered field.
KEY_VERSION_FIELDS: dict[tuple[str, str], str] = {
    ("accounts.User", "shipping_address_encrypted"): "address_key_version"
}


def register_encrypted_field(
    model_label: str, field_name: str, *, version_field: str | None = None
) -> None:
    if (model_label, field_name) not in ENCRYPTED_FIELDS:
        ENCRYPTED_FIELDS.append((model_label, field_name))
    if version_field:
        KEY_VERSION_FIELDS[(model_label, field_name)] = version_field


def reencrypt_token(token: str) -> str:
    """The same plaintext sealed with the current key (a new token even if already current)."""
    return encrypt_text(decrypt_text(token))


class EncryptedAddressMixin:
    """`shipping_address` dict property for a model with a `shipping_address_encrypted` text
    field and an `address_key_version` integer field (the user's profile, an order's snapshot).
    """

    shipping_address_encrypted: str
    address_key_version: int

    @property
    def shipping_address(self) -> dict:
        if not self.shipping_address_encrypted:
            return {}
        return decrypt_json(self.shipping_address_encrypted)

    @shipping_address.setter
    def shipping_address(self, value: dict) -> None:
        self.shipping_address_encrypted = encrypt_json(value) if value else ""
        self.address_key_version = current_version() if value else 0


# --- The archive of deleted accounts' order snapshots (Fernet) --------------------------------
# A key apart from the address keys: the archive is read only on a legal request, by ops
# (`python manage.py order_archive_read`), never by a page. `ARCHIVE_ENCRYPTION_KEY` (a Fernet
# key) or, by default, one derived from SECRET_KEY.


def _archive_fernet() -> Fernet:
    key = getattr(settings, "ARCHIVE_ENCRYPTION_KEY", "") or ""
    if not key:
        digest = hashlib.sha256(f"dorami.archive:{settings.SECRET_KEY}".encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode())


def archive_seal(data: dict) -> str:
    return _archive_fernet().encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()


def archive_open(token: str) -> dict:
    try:
        return json.loads(_archive_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise DecryptionError("archive key does not match") from exc
