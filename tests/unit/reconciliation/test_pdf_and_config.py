"""The printable statement (read back with pypdf) and the service's settings."""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from services.reconciliation import pdf
from services.reconciliation.api.common import pdf_response
from services.reconciliation.config import LINK_SECRET_FILE, WQY_MICROHEI, ReconciliationConfig
from services.reconciliation.domain.statement import (
    Item,
    Party,
    Settlement,
    build_balance_statement,
    build_statement,
)

ITEMS = [Item("invoice", "INV-2026-0001", date(2026, 3, 2), 123_450, date(2026, 4, 1)),
         Item("payment", "BL-abc", date(2026, 3, 20), 23_450)]
SETTLED = [Settlement("INV-2026-0001", 23_450, date(2026, 3, 20))]
PARTY = Party("Đặng Trading Co., Ltd.", terms={"mode": "net_days", "days": 30})
ISSUED = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def config(tmp_path: Path, **overrides: object) -> ReconciliationConfig:
    return ReconciliationConfig(**overrides).bound_to(
        SimpleNamespace(environment="development", data_dir=tmp_path))


def view(content: dict, **extra: object) -> dict:
    return {**content, "status": "issued", "version": 2, "reference": "ST-2026-03-C1-CNY-2",
            "issued_at": ISSUED, **extra}


def text_of(document: bytes) -> str:
    assert document.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def require_font(path: str) -> None:
    """The image installs the fonts (Dockerfile), `make tools` this machine; without them
    the test skips saying so, or fails under CI=true."""
    if Path(path).is_file():
        return
    message = f"{path} is missing: install Debian's fonts-wqy-microhei (make tools)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


LINK = {"url": "http://recoup.example/reconciliation/v1/confirmations/tok", "expires_at": ISSUED}


def test_the_monthly_pdf_shows_every_figure_the_reference_and_the_digest(tmp_path: Path) -> None:
    content = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=PARTY)
    text = text_of(pdf.render(view(content), config(tmp_path), LINK))
    for expected in ("Statement of account", "Đặng Trading Co., Ltd. (C1)", "2026-03-01 to 2026-03-31",
                     "ST-2026-03-C1-CNY-2", content["digest"], "INV-2026-0001", "1,234.50", "234.50",
                     "Closing balance on 2026-03-31: 1,000.00", "net 30 days after invoice",
                     "Company seal", "Signature", LINK["url"]):
        assert expected in text, expected


def test_the_pdf_states_money_received_and_not_yet_applied(tmp_path: Path) -> None:
    content = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=PARTY)
    assert "unapplied_credit" not in content
    on_account = {**content, "unapplied_credit": 50_000}
    text = text_of(pdf.render(view(on_account), config(tmp_path), LINK))
    assert "Received and not yet applied to an invoice: 500.00" in text


def test_a_confirmed_statement_prints_who_confirmed_it_and_no_link(tmp_path: Path) -> None:
    content = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=PARTY)
    confirmed = view(content, status="confirmed", confirmed_by="Wang Wei", confirmed_at=ISSUED)
    text = text_of(pdf.render(confirmed, config(tmp_path), LINK))
    assert "Confirmed by Wang Wei on 2026-04-01 08:00 UTC" in text and LINK["url"] not in text


def test_the_balance_confirmation_pdf(tmp_path: Path) -> None:
    due = {"reminder_id": "R1", "due_date": "2026-04-01", "amount": 100_000, "invoice_ids": ["INV-2026-0001"]}
    content = build_balance_statement("C1", date(2026, 3, 28), "CNY", ITEMS, SETTLED, due=due, party=PARTY)
    text = text_of(pdf.render(view(content, reference="BC-2026-03-28-C1-CNY-1"), config(tmp_path), LINK))
    for expected in ("Balance confirmation", "Balance owed on 2026-03-28: 1,000.00",
                     "Falling due on 2026-04-01: 1,000.00", "BC-2026-03-28-C1-CNY-1", content["digest"]):
        assert expected in text, expected


def test_chinese_names_print_with_the_cjk_font(tmp_path: Path) -> None:
    """The dealers are Chinese companies: their names must print, not as '????'."""
    require_font(WQY_MICROHEI)
    content = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=Party("王氏贸易有限公司"))
    text = text_of(pdf.render(view(content), config(tmp_path), LINK))
    assert "王氏贸易有限公司 (C1)" in text and "1,234.50" in text


def test_without_a_unicode_font_the_pdf_still_renders(tmp_path: Path) -> None:
    content = build_statement("C1", "2026-03", "CNY", ITEMS, SETTLED, party=Party("王氏贸易"))
    text = text_of(pdf.render(view(content), config(tmp_path, pdf_fonts=[]), LINK))
    assert "???? (C1)" in text and content["digest"] in text


def test_the_pdf_of_a_customer_whose_id_is_not_ascii_is_served(tmp_path: Path) -> None:
    """HTTP headers are Latin-1: the file name goes as RFC 6266 filename* (a customer code
    in Chinese made the download a 500)."""
    content = build_statement("王-1", "2026-03", "CNY", ITEMS, SETTLED, party=PARTY)
    served = pdf_response(view(content, reference='ST-2026-03-王"1-CNY-1'),
                          SimpleNamespace(config=config(tmp_path)))
    assert served.headers["content-disposition"] == (
        "inline; filename=\"ST-2026-03-__1-CNY-1.pdf\"; "
        "filename*=UTF-8''ST-2026-03-%E7%8E%8B%221-CNY-1.pdf")
    assert "ST-2026-03-王" in text_of(served.body)


def test_production_refuses_to_start_without_a_link_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="RECOUP_RECONCILIATION_LINK_SECRET"):
        ReconciliationConfig().bound_to(SimpleNamespace(environment="production", data_dir=tmp_path))
    given = ReconciliationConfig(link_secret="s3cret").bound_to(
        SimpleNamespace(environment="production", data_dir=tmp_path))
    assert given.secret() == "s3cret" and not (tmp_path / LINK_SECRET_FILE).exists()


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = config(tmp_path).secret()
    assert (tmp_path / LINK_SECRET_FILE).read_text() == first and len(first) >= 32
    assert (tmp_path / LINK_SECRET_FILE).stat().st_mode & 0o077 == 0
    assert config(tmp_path).secret() == first


@pytest.mark.parametrize("threshold", ["0.5", "0.7", "0.75"])
def test_the_match_threshold_cannot_book_conflicts_or_amounts_alone(
        monkeypatch: pytest.MonkeyPatch, threshold: str) -> None:
    """Conflicts are capped at 0.7, a resembling name alone is 0.75, an amount alone 0.5:
    a threshold that low would book lines to customers the evidence argues against."""
    monkeypatch.setenv("RECOUP_RECONCILIATION_AUTO_MATCH_CONFIDENCE", threshold)
    with pytest.raises(ValidationError, match="auto_match_confidence"):
        ReconciliationConfig()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECOUP_RECONCILIATION_PUBLIC_BASE_URL", "https://pay.example.com/")
    monkeypatch.setenv("RECOUP_RECONCILIATION_AUTO_MATCH_CONFIDENCE", "0.95")
    monkeypatch.setenv("RECOUP_RECONCILIATION_CSV_COLUMNS", '{"amount": "Betrag"}')
    bound = config(tmp_path)
    assert bound.public_base_url == "https://pay.example.com"
    assert bound.auto_match_confidence == 0.95 and bound.csv_columns == {"amount": "Betrag"}
