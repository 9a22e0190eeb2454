"""Where a webhook may be sent, and when a failed delivery is tried again (Standard
Webhooks: retries with exponential back-off and jitter, then dead-lettered)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.errors import Invalid


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int


def check_url(url: str, *, allow_http: bool) -> Endpoint:
    """A webhook URL must be absolute HTTPS (HTTP only where allowed), without credentials
    in it (they would be logged and shown)."""
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise Invalid(f"the URL must use {' or '.join(allowed)}", field="url")
    if not parts.hostname:
        raise Invalid("the URL needs a host", field="url")
    if parts.username or parts.password:
        raise Invalid("put no credentials in the URL: verify the signature instead", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Invalid("the URL's port is not a number from 1 to 65535", field="url") from exc
    return Endpoint(parts.scheme, parts.hostname, port)


def is_private(address: str) -> bool:
    """Loopback, private networks, link-local (cloud metadata at 169.254.169.254), and the
    like: not the public internet, so not for a webhook unless configured."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float

    def next_delay(self, failed_attempts: int, jitter: float) -> float | None:
        """Seconds until the next try after `failed_attempts` failures, or None when the
        delivery is dead. `jitter` in [0, 1) spreads retries so they do not arrive together
        (the delay is between half and all of the exponential step)."""
        if failed_attempts >= self.max_attempts:
            return None
        step = min(self.base_seconds * 2 ** (failed_attempts - 1), self.max_seconds)
        return step * (0.5 + jitter / 2)
