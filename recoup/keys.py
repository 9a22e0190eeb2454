"""Where the API keys come from: RECOUP_API_KEYS, or (embedded mode) one admin key made
at first start. Only its hash is written to disk; the key itself is printed once."""

from __future__ import annotations

from shared.auth import Keyring, hash_secret, new_secret
from shared.settings import Settings

ADMIN_KEY_FILE = "admin-key.sha256"


def load_keyring(settings: Settings) -> tuple[Keyring, str | None]:
    """Answers the keyring and, if one was just made, the new admin key to show."""
    if settings.api_keys:
        return Keyring.parse(settings.api_keys), None
    ring = Keyring()
    stored = settings.data_dir / ADMIN_KEY_FILE
    if stored.exists():
        ring.add_hashed(stored.read_text().strip(), frozenset({"admin"}))
        return ring, None
    secret = new_secret()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stored.write_text(hash_secret(secret) + "\n")
    stored.chmod(0o600)
    ring.add_hashed(hash_secret(secret), frozenset({"admin"}))
    return ring, secret
