"""Event-type patterns with the meaning of RabbitMQ topic bindings, so a subscription means
the same on both transports: words split by dots, `*` stands for exactly one word and `#`
for any number of words (none included). `ledger.#` is every ledger event, `#` is all."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"^[a-z0-9_]+$")


def check_pattern(pattern: str) -> str:
    """The pattern, if well formed; raises ValueError saying why not."""
    if not all(w in ("*", "#") or _WORD.match(w) for w in pattern.split(".")):
        raise ValueError("a pattern is dot-separated words of a-z, 0-9 and _, or * or #")
    return pattern


@lru_cache(maxsize=4096)
def matches(pattern: str, event_type: str) -> bool:
    return _match(tuple(pattern.split(".")), tuple(event_type.split(".")))


def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[skip:]) for skip in range(len(words) + 1))
    return bool(words) and head in ("*", words[0]) and _match(rest, words[1:])
