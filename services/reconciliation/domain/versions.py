"""What changed between two versions of a statement: lines added, removed or changed (by
document), and the figures before and after. Running balances are left out of the line
comparison: one late line moves every balance after it, which says nothing new."""

from __future__ import annotations

from typing import Any

FIGURES = ("opening_balance", "closing_balance", "total_debits", "total_credits", "balance",
           "unapplied_credit")
LINE_FIELDS = ("date", "debit", "credit", "due_date")
PARTY_FIELDS = ("customer_name", "salesperson", "terms")


def _by_document(lines: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(line["kind"], line["document_id"]): line for line in lines}


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    old, new = _by_document(before.get("lines", [])), _by_document(after.get("lines", []))
    changed = []
    for key in sorted(old.keys() & new.keys()):
        fields = {f: {"before": old[key].get(f), "after": new[key].get(f)}
                  for f in LINE_FIELDS if old[key].get(f) != new[key].get(f)}
        if fields:
            changed.append({"kind": key[0], "document_id": key[1], "fields": fields})
    figures = {f: {"before": before.get(f), "after": after.get(f)}
               for f in FIGURES if (f in after or f in before) and before.get(f) != after.get(f)}
    aging = {bucket: {"before": before.get("aging", {}).get(bucket), "after": amount}
             for bucket, amount in after.get("aging", {}).items()
             if before.get("aging", {}).get(bucket) != amount}
    party = {f: {"before": before.get(f), "after": after.get(f)}
             for f in PARTY_FIELDS if before.get(f) != after.get(f)}
    return {
        "lines_added": [new[k] for k in sorted(new.keys() - old.keys())],
        "lines_removed": [old[k] for k in sorted(old.keys() - new.keys())],
        "lines_changed": changed,
        "figures": figures, "aging": aging, "party": party,
        "previous_digest": before.get("digest"),
    }
