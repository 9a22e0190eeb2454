"""The page a customer sees through a confirmation link: the statement, a form to confirm
it (name) and a form to dispute lines (which, and why). Plain HTML, every value escaped;
the forms post back to the same link."""

from __future__ import annotations

from html import escape
from typing import Any

from services.reconciliation.pdf import KIND_LABELS
from shared.money import format_amount

_STYLE = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
          "table{border-collapse:collapse;width:100%;margin:1rem 0}"
          "td,th{border:1px solid #ccc;padding:.25rem .5rem}td.n{text-align:right}"
          "form{margin:1.5rem 0;padding:1rem;border:1px solid #ccc}")


def _row(cells: list[str], numeric_from: int) -> str:
    return "<tr>" + "".join(
        f'<td class="n">{escape(c)}</td>' if n >= numeric_from else f"<td>{escape(c)}</td>"
        for n, c in enumerate(cells)) + "</tr>"


def page(statement: dict[str, Any], link: str, notice: str | None = None) -> str:
    c, currency = statement, statement["currency"]

    def money(v: int) -> str:
        return format_amount(v, currency)

    title = "Statement of account" if c["kind"] == "monthly" else "Balance confirmation"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f"<p>{escape(c.get('customer_name') or '')} ({escape(c['customer_id'])}) &middot; "
             f"reference <b>{escape(statement['reference'])}</b> &middot; {escape(currency)}</p>"]
    if notice:
        parts.append(f"<p><b>{escape(notice)}</b></p>")
    disputable: list[tuple[str, str]] = []
    if c["kind"] == "monthly":
        parts.append(f"<p>Opening balance on {escape(c['period_start'])}: "
                     f"<b>{money(c['opening_balance'])}</b></p><table><tr><th></th><th>Date</th>"
                     "<th>Document</th><th>Number</th><th>Debit</th><th>Credit</th><th>Balance</th></tr>")
        for line in c["lines"]:
            disputable.append((line["document_id"], KIND_LABELS.get(line["kind"], line["kind"])))
            parts.append(_row(["", line["date"], KIND_LABELS.get(line["kind"], line["kind"]),
                               line["document_id"], money(line["debit"]) if line["debit"] else "",
                               money(line["credit"]) if line["credit"] else "",
                               money(line["balance"])], 4))
        parts.append(f"</table><p>Closing balance on {escape(c['period_end'])}: "
                     f"<b>{money(c['closing_balance'])}</b></p>")
    else:
        due = c["falling_due"]
        parts.append(f"<p>Owed on {escape(c['as_of'])}: <b>{money(c['balance'])}</b>; falling due "
                     f"on {escape(due['due_date'])}: <b>{money(due['amount'])}</b></p>")
    parts.append("<h2>Open items</h2>")
    if unapplied := c.get("unapplied_credit"):
        parts.append(f"<p>Received and not yet applied to an invoice: <b>{money(unapplied)}</b></p>")
    parts.append("<table><tr><th>Number</th><th>Due</th><th>Days late</th><th>Open</th></tr>")
    for item in c["open_items"]:
        if c["kind"] != "monthly":
            disputable.append((item["document_id"], KIND_LABELS.get(item["kind"], item["kind"])))
        parts.append(_row([item["document_id"], item["due_date"], str(item["days_past_due"]),
                           money(item["open_amount"])], 2))
    parts.append(f"</table><p><small>Digest (SHA-256): {escape(statement['digest'])}</small></p>")
    if statement["status"] == "confirmed":
        parts.append(f"<p><b>Confirmed by {escape(statement['confirmed_by'])} on "
                     f"{statement['confirmed_at']:%Y-%m-%d %H:%M} UTC.</b></p>")
    elif statement["status"] == "superseded":
        parts.append("<p><b>A newer version of this statement was issued; it replaces this one."
                     "</b></p>")
    else:
        action = escape(link)
        parts.append(
            f"<form method='post' action='{action}/confirm'><h2>Confirm</h2>"
            "<p>We agree with this statement.</p><label>Your name <input name='name' required "
            "maxlength='256'></label> <button>Confirm</button></form>"
            f"<form method='post' action='{action}/dispute'><h2>Dispute</h2><p>Tick the lines "
            "you do not agree with.</p>"
            + "".join(f"<label><input type='checkbox' name='document_id' value='{escape(d)}'> "
                      f"{escape(label)} {escape(d)}</label><br>" for d, label in disputable)
            + "<p><label>Why <textarea name='reason' required maxlength='2000'></textarea>"
            "</label></p><label>Your name <input name='name' required maxlength='256'></label> "
            f"<button>Dispute</button></form><p><small>This link works until "
            f"{statement['confirmation']['expires_at']:%Y-%m-%d %H:%M} UTC.</small></p>")
    parts.append("</body></html>")
    return "".join(parts)


def message(title: str, detail: str) -> str:
    """A page for a refusal (the link expired, the statement was confirmed already, ...)."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
            f"<p>{escape(detail)}</p></body></html>")
