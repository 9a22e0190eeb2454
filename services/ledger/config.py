"""The ledger's own settings (environment, RECOUP_LEDGER_*), read when the service starts;
handlers see them as `uow.config`. Deployment knobs, not business policy: an operator sets
them per installation, nobody needs to change them while it runs."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import Settings


class LedgerConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_LEDGER_", extra="ignore")

    sweep_chunk_customers: int = Field(
        200, ge=1, le=5_000,
        description="customers the overdue sweep handles per transaction: their rows stay "
                    "locked (postings for them wait) until that transaction commits; larger "
                    "chunks mean fewer statements and more events held in memory at once")
    sweep_workers: int = Field(
        2, ge=1, le=16,
        description="chunks the sweep works on at once on PostgreSQL (SQLite: always one); "
                    "each takes a database connection")


def load(_settings: Settings) -> LedgerConfig:
    return LedgerConfig()
