"""The aging buckets of the public contract (CONTRACT.md), by days past due, and buckets
made from other edges for reports that ask for them."""

from __future__ import annotations

Bucket = tuple[str, int, int | None]  # label, lowest days past due, highest or None

DEFAULT_EDGES = (30, 60, 90, 180, 365)


def buckets_from_edges(edges: tuple[int, ...]) -> tuple[Bucket, ...]:
    """(30, 60) -> current, 1-30, 31-60, 60+ (the last means more than 60 days)."""
    if not edges or list(edges) != sorted(set(edges)) or edges[0] < 1:
        raise ValueError("bucket edges must be increasing whole days, the first at least 1")
    buckets: list[Bucket] = [("current", -(10**6), 0)]
    low = 1
    for edge in edges:
        buckets.append((f"{low}-{edge}", low, edge))
        low = edge + 1
    buckets.append((f"{edges[-1]}+", low, None))
    return tuple(buckets)


BUCKETS = buckets_from_edges(DEFAULT_EDGES)
LABELS = tuple(label for label, _, _ in BUCKETS)


def bucket_for(days_past_due: int, buckets: tuple[Bucket, ...] = BUCKETS) -> str:
    for label, low, high in buckets:
        if days_past_due >= low and (high is None or days_past_due <= high):
            return label
    raise AssertionError("buckets cover every integer")
