"""Document numbers in a payer's remittance text. A number is compared by its letters and
digits only (INV-2026-0042, inv 2026 0042 and INV20260042 are one number); the text is read
as runs of letters and digits, and any few neighbouring runs may form a number."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RUN = re.compile(r"[A-Z0-9]+")
MAX_RUNS = 4  # a number written with up to three separators


def ref_key(document_id: str) -> str:
    return "".join(_RUN.findall(document_id.upper()))


@dataclass(frozen=True)
class Token:
    key: str
    start: int  # first run
    end: int  # one past the last run

    def inside(self, other: Token) -> bool:
        return other.start <= self.start and self.end <= other.end and self != other


def tokens(text: str | None, min_length: int) -> list[Token]:
    """Every join of up to MAX_RUNS neighbouring runs that has a digit and `min_length`
    characters: the candidates for a document number."""
    if not text:
        return []
    runs = _RUN.findall(text.upper())
    found: dict[str, Token] = {}
    for start in range(len(runs)):
        key = ""
        for end in range(start + 1, min(start + MAX_RUNS, len(runs)) + 1):
            key += runs[end - 1]
            if len(key) >= min_length and any(c.isdigit() for c in key) and key not in found:
                found[key] = Token(key, start, end)
    return list(found.values())


def outermost(hits: list[Token]) -> list[Token]:
    """Drop a number read inside a longer one that is also known (INV20260042 wins over
    20260042)."""
    return [t for t in hits if not any(t.inside(o) for o in hits)]
