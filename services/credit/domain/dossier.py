"""The customer dossier (DOMAIN.md "Customer dossier"): what is on file, what changed,
and which changes are warning signs in themselves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.credit.domain.signals import Finding

# A credit manager's grade of the qualitative parts of the dossier, best first.
GRADES = ("strong", "sound", "weak", "poor")
ASSESSMENTS = ("financial_status", "market_network", "sales_ability", "organisation")

DOCUMENT_KINDS = (
    "sales_agreement", "business_licence", "legal_representative_id", "financial_statements",
    "guarantee",
)

# `financials` is free-form, but a dossier is no file store: a full set of statements
# (balance sheet, income statement, cash flow, key ratios) fits these with room to spare.
FINANCIALS_MAX_ENTRIES = 200
FINANCIALS_KEY_MAX = 64  # characters of a figure's name
FINANCIALS_TEXT_MAX = 500  # characters of a figure given as text (an auditor, a note)
FINANCIALS_NUMBER_MAX = 10**15  # the largest amount in minor units anywhere in Recoup


def figure_problem(value: Any) -> str | None:
    """What is wrong with one financial figure, if anything: a figure is a number, a short
    text, true/false or null; a list or a nested object is no figure."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not -FINANCIALS_NUMBER_MAX <= value <= FINANCIALS_NUMBER_MAX:  # NaN and infinity too
            return f"a number between -{FINANCIALS_NUMBER_MAX} and {FINANCIALS_NUMBER_MAX}"
        return None
    if isinstance(value, str):
        return (None if len(value) <= FINANCIALS_TEXT_MAX
                else f"a text of at most {FINANCIALS_TEXT_MAX} characters")
    return "a figure is a number, a text, true/false or null, not a list or an object"


# Fields whose change is recorded and announced (`credit.customer.updated`). The terms have
# their own event (`credit.terms.changed`) but are recorded here too.
FIELDS = (
    "name", "salesperson", "region", "address", "distance_km", "legal_representative",
    "financials", *ASSESSMENTS, "documents", "terms", "credit_limit",
)


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What differs between two dossiers (JSON-like values), in FIELDS order."""
    return [Change(f, before.get(f), after[f]) for f in FIELDS
            if f in after and before.get(f) != after[f]]


def agreement_status(documents: dict[str, Any]) -> str:
    """none, signed (a person's signature only: can be repudiated) or sealed."""
    agreement = documents.get("sales_agreement") or {}
    if agreement.get("sealed"):
        return "sealed"
    return "signed" if agreement.get("signed") else "none"


def warning_signs(found: list[Change]) -> list[Finding]:
    """A new legal representative, or a sales agreement whose company seal is lost or
    changed, is a warning sign (a first entry of either is not: nothing changed)."""
    signs: list[Finding] = []
    for change in found:
        if change.field == "legal_representative" and change.before:
            signs.append(Finding("change_of_legal_representative", (
                f"legal representative changed from {change.before!r} to {change.after!r}",)))
        if change.field == "documents":
            before = (change.before or {}).get("sales_agreement") or {}
            after = (change.after or {}).get("sales_agreement") or {}
            if before.get("sealed") and not after.get("sealed"):
                signs.append(Finding("seal_status_changed", (
                    "the sales agreement on file no longer bears the company seal "
                    f"(sealed by {before.get('sealed_by') or 'the customer'} before)",)))
            elif before.get("sealed") and before.get("sealed_by") != after.get("sealed_by"):
                signs.append(Finding("seal_status_changed", (
                    f"the sales agreement's seal changed from {before.get('sealed_by')!r} "
                    f"to {after.get('sealed_by')!r}",)))
    return signs
