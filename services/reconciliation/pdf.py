"""A statement as a PDF the customer can print, sign and stamp (fpdf2). It shows everything
the JSON does, the reference to quote, the digest both sides can compare, and the link
to confirm online."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from services.reconciliation.config import ReconciliationConfig
from shared.money import format_amount

KIND_LABELS = {"invoice": "Invoice", "interest": "Late interest", "fee": "Fee",
               "refund": "Refund", "reversal": "Payment reversed", "payment": "Payment",
               "credit_note": "Credit note", "discount": "Early-payment discount",
               "write_off": "Written off"}
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


class _Pdf(FPDF):
    def __init__(self, config: ReconciliationConfig, footer_text: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text
        self.family = "Helvetica"
        fonts = [Path(p) for p in config.pdf_fonts if Path(p).is_file()]
        for number, path in enumerate(fonts):
            # The first font present writes the text; the others stand in for the glyphs it
            # lacks (a CJK font for Chinese names beside a Latin one).
            family = "Body" if number == 0 else f"Fallback{number}"
            bold = path.with_name(path.stem + "-Bold" + path.suffix)
            self.add_font(family, "", path)
            self.add_font(family, "B", bold if bold.is_file() else path)
        if fonts:
            self.family = "Body"
            self.set_fallback_fonts([f"Fallback{n}" for n in range(1, len(fonts))])
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)

    def text_of(self, value: Any) -> str:
        text = "" if value is None else str(value)
        if self.family == "Helvetica":  # the built-in font has Latin-1 only
            return text.encode("latin-1", "replace").decode("latin-1")
        return text

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family, "", 7)
        self.cell(0, 5, self.text_of(f"{self._footer_text}   page {self.page_no()}/{{nb}}"),
                  align="C")


def _money(value: int, currency: str) -> str:
    return format_amount(value, currency)


def render(statement: dict[str, Any], config: ReconciliationConfig, link: dict[str, Any] | None) -> bytes:
    content, currency = statement, statement["currency"]
    pdf = _Pdf(config, f"{statement['reference']}  SHA-256 {statement['digest']}")
    pdf.alias_nb_pages()
    pdf.add_page()
    write = _writer(pdf)
    title = "Statement of account" if content["kind"] == "monthly" else "Balance confirmation"
    if config.supplier_name:
        write(config.supplier_name, size=10)
    write(title, size=16, bold=True)
    write(f"Customer: {content.get('customer_name') or ''} ({content['customer_id']})")
    if content["kind"] == "monthly":
        write(f"Period: {content['period_start']} to {content['period_end']}    Currency: {currency}")
    else:
        write(f"As of: {content['as_of']}    Currency: {currency}")
    write(f"Reference: {statement['reference']}    Version: {statement['version']}    "
          f"Issued: {statement['issued_at']:%Y-%m-%d}")
    if content.get("terms"):
        write(f"Settlement terms: {_terms(content['terms'])}")
    pdf.ln(2)
    if content["kind"] == "monthly":
        _monthly(pdf, write, content, currency)
    else:
        _balance(pdf, write, content, currency)
    _aging(pdf, write, content, currency)
    _open_items(pdf, write, content, currency)
    _confirmation(pdf, write, statement, link)
    return bytes(pdf.output())


def _writer(pdf: _Pdf) -> Any:
    def write(text: str, *, size: float = 9, bold: bool = False, height: float = 5) -> None:
        pdf.set_font(pdf.family, "B" if bold else "", size)
        pdf.multi_cell(0, height, pdf.text_of(text), align="L", **NEXT_LINE)
    return write


def _table(pdf: _Pdf, headings: list[str], rows: list[list[str]], widths: tuple[int, ...],
           *, figures: int) -> None:
    """The last `figures` columns are amounts, aligned right."""
    pdf.set_font(pdf.family, "", 8)
    align = ["LEFT"] * (len(headings) - figures) + ["RIGHT"] * figures
    with pdf.table(col_widths=widths, text_align=align, line_height=5) as table:
        for cells in [headings, *rows]:
            row = table.row()
            for cell in cells:
                row.cell(pdf.text_of(cell))
    pdf.ln(2)


def _monthly(pdf: _Pdf, write: Any, content: dict[str, Any], currency: str) -> None:
    write(f"Opening balance on {content['period_start']}: "
          f"{_money(content['opening_balance'], currency)}", bold=True)
    rows = [[line["date"], KIND_LABELS.get(line["kind"], line["kind"]), line["document_id"],
             line.get("due_date", ""),
             _money(line["debit"], currency) if line["debit"] else "",
             _money(line["credit"], currency) if line["credit"] else "",
             _money(line["balance"], currency)] for line in content["lines"]]
    if rows:
        _table(pdf, ["Date", "Document", "Number", "Due", "Debit", "Credit", "Balance"], rows,
               (20, 30, 38, 20, 24, 24, 24), figures=3)
    else:
        write("No documents in this period.")
    write(f"Debits {_money(content['total_debits'], currency)}, credits "
          f"{_money(content['total_credits'], currency)}")
    write(f"Closing balance on {content['period_end']}: "
          f"{_money(content['closing_balance'], currency)}", bold=True)
    pdf.ln(2)


def _balance(pdf: _Pdf, write: Any, content: dict[str, Any], currency: str) -> None:
    due = content["falling_due"]
    write(f"Balance owed on {content['as_of']}: {_money(content['balance'], currency)}", bold=True)
    write(f"Falling due on {due['due_date']}: {_money(due['amount'], currency)} "
          f"({', '.join(due['invoice_ids'])})", bold=True)
    pdf.ln(2)


def _aging(pdf: _Pdf, write: Any, content: dict[str, Any], currency: str) -> None:
    write("Aging (days past due)", bold=True)
    labels = list(content["aging"])
    _table(pdf, labels, [[_money(content["aging"][k], currency) for k in labels]],
           tuple([180 // len(labels)] * len(labels)), figures=len(labels))


def _open_items(pdf: _Pdf, write: Any, content: dict[str, Any], currency: str) -> None:
    write("Open items", bold=True)
    if unapplied := content.get("unapplied_credit"):
        write(f"Received and not yet applied to an invoice: {_money(unapplied, currency)}")
    if not content["open_items"]:
        write("None.")
        return
    rows = [[i["document_id"], KIND_LABELS.get(i["kind"], i["kind"]), i["date"], i["due_date"],
             str(i["days_past_due"]), _money(i["amount"], currency),
             _money(i["open_amount"], currency)] for i in content["open_items"]]
    _table(pdf, ["Number", "Document", "Date", "Due", "Days late", "Amount", "Open"], rows,
           (38, 30, 20, 20, 18, 27, 27), figures=3)


def _confirmation(pdf: _Pdf, write: Any, statement: dict[str, Any], link: dict[str, Any] | None) -> None:
    pdf.ln(2)
    write("Confirmation", bold=True)
    write("We confirm that the balance above agrees with our books. Where it does not, we list "
          "the lines we dispute and why.")
    write(f"Quote the reference {statement['reference']} in any answer.")
    write(f"Digest (SHA-256 of the statement's content): {statement['digest']}", size=7)
    if statement.get("status") == "confirmed":
        write(f"Confirmed by {statement['confirmed_by']} on {statement['confirmed_at']:%Y-%m-%d %H:%M} UTC.",
              bold=True)
    elif link:
        write(f"Confirm or dispute online until {link['expires_at']:%Y-%m-%d}:")
        write(link["url"], size=7)
    pdf.ln(6)
    write("Name: ______________________    Signature: ______________________    "
          "Date: ____________")
    pdf.ln(4)
    write("Company seal:")
    pdf.rect(pdf.get_x(), pdf.get_y(), 45, 30)


def _terms(terms: dict[str, Any]) -> str:
    mode = terms.get("mode")
    text = {"cash": "cash", "net_days": f"net {terms.get('days')} days after invoice",
            "monthly": f"monthly, on day {terms.get('day_of_month')}",
            "deliver_two_settle_one": "deliver two, settle one",
            "one_off": f"due on {terms.get('due_date')}"}.get(str(mode), str(mode))
    discount = terms.get("early_payment_discount")
    if discount:
        text += (f"; {discount.get('percent')}% discount if paid within "
                 f"{discount.get('within_days')} days")
    return text
