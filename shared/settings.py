"""Configuration from RECOUP_* environment variables (documented in the README)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_", extra="ignore")

    environment: str = Field("development", description="development | production")
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("var")
    api_keys: str | None = None

    database_url_credit: str | None = None
    database_url_ledger: str | None = None
    database_url_reconciliation: str | None = None
    database_url_collections: str | None = None
    database_url_webhooks: str | None = None
    amqp_url: str | None = None
    amqp_namespace: str = "recoup"  # exchange <ns>.events, queues <ns>.<service>
    # Embedded (SQLite) migrates on start; with PostgreSQL run `recoup migrate` first.
    migrate_on_start: bool | None = None

    # Messaging
    delivery_limit: int = 5  # redeliveries after the first, then the dead-letter queue
    retry_base_seconds: float = 0.5  # back-off before redelivery n: base * 2**(n-1), at most 30 s
    prefetch: int = 16
    relay_poll_seconds: float = 1.0
    relay_batch_size: int = 200

    # Scheduling: the daily overdue sweep in the embedded mode, HH:MM in UTC
    sweep_at: str = "00:30"
    scheduler_enabled: bool = True

    idempotency_ttl_hours: int = 24

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment == "production" and not self.api_keys:
            raise ValueError("RECOUP_API_KEYS must be set when RECOUP_ENVIRONMENT=production")
        return self

    def database_url(self, service: str) -> str:
        url = getattr(self, f"database_url_{service}")
        if url:
            return url
        return f"sqlite+aiosqlite:///{self.data_dir / f'{service}.sqlite3'}"
