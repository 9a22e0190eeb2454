"""Names as money arrives under them: a payer's name on a bank line is compared with the
customer's known names after taking away case, punctuation and legal forms ("Wang Trading
Co., Ltd." and "WANG TRADING COMPANY LIMITED" are the same payer)."""

from __future__ import annotations

import re
import unicodedata

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


def blocks(key: str) -> set[str]:
    """What a similar name shares with this one at least once: the first three characters
    of a word (a typo later in the word still finds it)."""
    return {w[:3] for w in key.split() if len(w) >= 3 or not w.isascii()}
