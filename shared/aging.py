"""The aging buckets of the public contract (CONTRACT.md), by days past due."""

from __future__ import annotations

# (label, lowest days past due, highest days past due or None)
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", -(10**6), 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("181-365", 181, 365),
    ("365+", 366, None),
)
LABELS = tuple(label for label, _, _ in BUCKETS)


def bucket_for(days_past_due: int) -> str:
    for label, low, high in BUCKETS:
        if days_past_due >= low and (high is None or days_past_due <= high):
            return label
    raise AssertionError("buckets cover every integer")
