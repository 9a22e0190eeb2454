"""Lists ordered in memory (the worklist, by a computed priority) page like keyset lists."""

import pytest

from shared.errors import Invalid
from shared.pagination import PageRequest, after_cursor, encode_cursor


def key(item: tuple[int, str]) -> tuple[int, str]:
    return (-item[0], item[1])


ITEMS = sorted([(p, f"T{n}") for n, p in enumerate([5, 9, 9, 1, 7, 3, 9])], key=key)


def test_every_item_once_in_order() -> None:
    seen, cursor = [], None
    while True:
        page = after_cursor(ITEMS, PageRequest(limit=2, cursor=cursor), key)
        seen += page[:2]
        if len(page) <= 2:
            break
        cursor = encode_cursor(key(page[1]))
    assert seen == ITEMS


@pytest.mark.parametrize("cursor", ["bm90IGpzb24", "%%%", encode_cursor([1]),
                                    encode_cursor([[1], {}])],
                         ids=["not json", "not base64", "too short", "other types"])
def test_a_foreign_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(Invalid) as refused:
        after_cursor(ITEMS, PageRequest(limit=2, cursor=cursor), key)
    assert refused.value.field == "query.cursor"
