"""Scoped API keys. Only SHA-256 hashes of the secrets are kept; the comparison runs in
constant time. Keys are long random strings, so a fast hash is enough (no password
stretching needed, unlike for human-chosen passwords)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

SCOPES = frozenset(
    f"{service}:{access}"
    for service in ("credit", "ledger", "reconciliation", "collections", "webhooks")
    for access in ("read", "write")
) | {"collections:approve", "admin"}  # approve: write-offs and other decisions for a person


class KeySpecError(ValueError):
    pass


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    name: str  # safe to store and show: a prefix of the key's hash
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


@dataclass
class Keyring:
    _keys: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """`secret=scope,scope;secret2=scope` as in RECOUP_API_KEYS."""
        ring = cls()
        for entry in filter(None, (e.strip() for e in spec.split(";"))):
            secret, sep, scope_list = entry.partition("=")
            if not sep or not secret.strip():
                raise KeySpecError("each RECOUP_API_KEYS entry must read secret=scope,scope")
            scopes = frozenset(s.strip() for s in scope_list.split(",") if s.strip())
            unknown = scopes - SCOPES
            if unknown or not scopes:
                raise KeySpecError(f"unknown or missing scopes {sorted(unknown)}; known: {sorted(SCOPES)}")
            ring.add_hashed(hash_secret(secret.strip()), scopes)
        return ring

    def add_hashed(self, secret_hash: str, scopes: frozenset[str]) -> None:
        self._keys.append((secret_hash, scopes))

    def authenticate(self, secret: str) -> Principal | None:
        presented = hash_secret(secret)
        found: Principal | None = None
        for stored, scopes in self._keys:  # no early exit: timing says nothing
            if hmac.compare_digest(presented, stored):
                found = Principal(name=f"key:{stored[:12]}", scopes=scopes)
        return found


def new_secret() -> str:
    return secrets.token_urlsafe(32)
