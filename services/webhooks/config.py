"""The webhook service's settings (RECOUP_WEBHOOKS_*)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.webhooks.domain.policy import RetryPolicy
from shared.settings import Settings


class WebhookConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_WEBHOOKS_", extra="ignore")

    max_attempts: int = 8  # tries in all before a delivery is dead
    retry_base_seconds: float = 10.0  # before the 2nd try; doubling, with jitter
    retry_max_seconds: float = 3600.0  # the longest pause between two tries
    timeout_seconds: float = 10.0  # per request
    allow_http: bool = False  # plain http:// endpoints (development)
    allow_private_addresses: bool = False  # loopback and private networks (development)
    poll_seconds: float = 1.0  # how often the worker looks for deliveries that are due
    batch_size: int = 50  # deliveries taken per round
    concurrency: int = 10  # requests in flight at once
    subscription_refresh_seconds: float = 1.0  # how soon another replica's change is seen

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.retry_base_seconds, self.retry_max_seconds)


def load(_settings: Settings) -> WebhookConfig:
    return WebhookConfig()
