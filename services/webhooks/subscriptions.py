"""The webhook service hears every event (`#`, as a topic binding) and keeps what a
subscription wants."""

from __future__ import annotations

from collections.abc import Mapping

from services.webhooks import handlers
from shared.messaging.consumer import EventHandler


def subscriptions() -> Mapping[str, EventHandler]:
    return {"#": handlers.on_event}
