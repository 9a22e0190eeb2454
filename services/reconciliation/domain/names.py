"""Names as money arrives under them: a payer's name on a bank line is compared with the
customer's known names after taking away case, punctuation and legal forms ("Wang Trading
Co., Ltd." and "WANG TRADING COMPANY LIMITED" are the same payer)."""

from __future__ import annotations

import re
import unicodedata
from itertools import combinations

LEGAL_FORMS = frozenset({
    "co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc",
    "llp", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy", "ab",
    "as", "pte", "pty", "the", "and",
})
CJK_LEGAL_FORMS = ("有限责任公司", "股份有限公司", "有限公司", "公司")
_WORD = re.compile(r"\w+")


def name_key(name: str) -> str:
    """The comparable form of a name; '' when nothing but a legal form is left."""
    text = unicodedata.normalize("NFKC", name).casefold()
    for form in CJK_LEGAL_FORMS:
        text = text.replace(form, " ")
    words = [w for w in _WORD.findall(text.replace("_", " ")) if w not in LEGAL_FORMS]
    return " ".join(words)


def blocks(key: str) -> set[tuple[str, ...]]:
    """What a similar name shares with this one: the beginnings (three characters) of two
    of its words, or of its only word. A typo later in a word, or in one word of three,
    still finds the name; names that share one common word (a city) are not compared."""
    starts = sorted({w[:3] for w in key.split() if len(w) >= 3 or not w.isascii()})
    if len(starts) < 2:
        return {tuple(starts)} if starts else set()
    return set(combinations(starts, 2))
