"""Reconciliation's policy: environment variables `RECOUP_RECONCILIATION_*`, read when the
service starts (never at import). Operators change them with a restart: they are deploy-time
choices (a secret, a URL, thresholds tuned once), not decisions made while running."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import Settings

LINK_SECRET_FILE = "reconciliation-link-secret"
DEFAULT_CSV_COLUMNS = {
    "booking_date": "booking_date", "value_date": "value_date", "amount": "amount",
    "currency": "currency", "payer_name": "payer_name", "payer_account": "payer_account",
    "reference": "reference", "bank_reference": "bank_reference", "direction": "direction",
    "end_to_end_id": "end_to_end_id", "return_reason": "return_reason",
}
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Debian fonts-dejavu-core
WQY_MICROHEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # Debian fonts-wqy-microhei


class ReconciliationConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_RECONCILIATION_", extra="ignore")

    # Signed confirmation links for customers (no API key).
    link_secret: SecretStr | None = Field(
        None, description="HMAC key of the customers' links; required in production. In "
        "development one is generated and kept under the data dir.")
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="where customers reach /reconciliation; "
        "links are absolute from it")
    link_valid_days: int = Field(60, ge=1, le=3650, description="how long a statement link works")
    reminder_link_grace_days: int = Field(
        7, ge=0, le=365, description="a balance-confirmation link works until the due date plus this")

    # Statements
    statement_run_day: int = Field(
        1, ge=1, le=28, description="the daily job issues the previous month's statements on "
        "this day of the month; on the days after, it catches up what a missed day left")

    # Matching bank lines
    # Above 0.75 at least: conflicted candidates are capped at 0.7, a resembling name alone is
    # 0.75 and the amount alone 0.5; a threshold below would book them to a customer.
    auto_match_confidence: float = Field(
        0.9, ge=0.8, le=1.0, description="matches at least this sure are booked without a person")
    max_typos: int = Field(1, ge=0, le=2, description="edits allowed in a mistyped reference")
    min_reference_length: int = Field(
        4, ge=3, le=20, description="shorter tokens of the remittance text are never read "
        "as invoice numbers")
    name_match_score: int = Field(
        90, ge=70, le=100, description="least rapidfuzz token-set score for a payer name to "
        "point at a customer")
    combination_limit: int = Field(
        12, ge=1, le=20, description="open items of a customer searched for a combination "
        "that sums to the paid amount (the oldest ones)")
    return_window_days: int = Field(
        60, ge=1, le=400, description="a returned payment is linked only to a credit booked at "
        "most this many days before it (SEPA direct debits: 56 days of refund right)")
    learn_payer_names: bool = Field(
        True, description="a person's assignment of a line teaches its payer name as an alias")

    max_file_bytes: int = Field(20_000_000, ge=1000, description="the largest bank file taken")
    # CSV bank files: our field -> the file's column header
    csv_columns: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CSV_COLUMNS))
    csv_delimiter: str = Field(",", min_length=1, max_length=1)
    csv_decimal: str = Field(".", pattern=r"^[.,]$")
    csv_date_format: str = "%Y-%m-%d"

    # PDF: TrueType fonts; the first that exists writes the text, the others that exist stand
    # in for characters it lacks (Chinese names). Without any, the built-in Helvetica
    # (Latin-1 only: other characters print as '?').
    pdf_fonts: list[str] = Field(default_factory=lambda: [DEJAVU, WQY_MICROHEI])
    supplier_name: str = Field("", description="printed at the top of statements")

    # Bound from the process settings when the service starts (`load`).
    environment: str = "development"
    data_dir: Path = Path("var")

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def bound_to(self, settings: Settings) -> ReconciliationConfig:
        """Take the environment and data folder of the process; refuse production without a
        link secret, and in development keep a generated one under the data folder."""
        bound = self.model_copy(update={"environment": settings.environment,
                                        "data_dir": Path(settings.data_dir)})
        if bound.link_secret is None:
            if bound.environment == "production":
                raise ValueError("RECOUP_RECONCILIATION_LINK_SECRET must be set when "
                                 "RECOUP_ENVIRONMENT=production")
            bound.link_secret = SecretStr(_development_secret(bound.data_dir))
        return bound

    def secret(self) -> str:
        assert self.link_secret is not None, "bound_to() sets it"
        return self.link_secret.get_secret_value()


def _development_secret(data_dir: Path) -> str:
    path = data_dir / LINK_SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:  # exclusive create: two processes starting at once agree on one secret
        with open(path, "x", opener=lambda p, flags: os.open(p, flags, 0o600)) as file:
            file.write(secrets.token_urlsafe(32))
    except FileExistsError:
        pass
    return path.read_text().strip()


def load(settings: Settings) -> ReconciliationConfig:
    return ReconciliationConfig().bound_to(settings)
