"""Half-open interval algebra.

An interval is a pair ``(start, end)`` meaning every point ``p`` with
``start <= p < end``. Intervals with ``start >= end`` are empty and vanish.
A *span list* is a list of intervals sorted by start, pairwise disjoint and
not touching (``[1, 3)`` and ``[3, 5)`` are merged into ``[1, 5)``):
:func:`normalize` turns any iterable of intervals into one, and every other
function here takes span lists and returns span lists.

The functions are generic over the point type: the scheduling core runs them
on integer epoch seconds for speed, and they work unchanged on aware
``datetime`` instants::

    >>> subtract([(9, 17)], [(12, 13)])
    [(9, 12), (13, 17)]

``normalize`` sorts, so it costs O(n log n); ``union``, ``intersect`` and
``subtract`` on span lists are linear merges, O(n + m).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol


class _Comparable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...


__all__ = ["contains", "intersect", "normalize", "subtract", "total", "union"]


def normalize[P: _Comparable](intervals: Iterable[tuple[P, P]]) -> list[tuple[P, P]]:
    """Sort and merge overlapping or touching intervals; drop empty ones."""
    ordered = sorted(iv for iv in intervals if iv[0] < iv[1])
    merged: list[tuple[P, P]] = []
    for start, end in ordered:
        if merged and not merged[-1][1] < start:
            last_start, last_end = merged[-1]
            if last_end < end:
                merged[-1] = (last_start, end)
        else:
            merged.append((start, end))
    return merged


def union[P: _Comparable](a: Sequence[tuple[P, P]], b: Sequence[tuple[P, P]]) -> list[tuple[P, P]]:
    """Every point in ``a`` or in ``b``."""
    out: list[tuple[P, P]] = []
    i = j = 0
    while i < len(a) or j < len(b):
        if j >= len(b) or (i < len(a) and a[i][0] < b[j][0]):
            start, end = a[i]
            i += 1
        else:
            start, end = b[j]
            j += 1
        if out and not out[-1][1] < start:
            if out[-1][1] < end:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def intersect[P: _Comparable](
    a: Sequence[tuple[P, P]], b: Sequence[tuple[P, P]]
) -> list[tuple[P, P]]:
    """Every point in both ``a`` and ``b``."""
    out: list[tuple[P, P]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        a_start, a_end = a[i]
        b_start, b_end = b[j]
        start = max(a_start, b_start)
        end = min(b_end, a_end)
        if start < end:
            out.append((start, end))
        if a_end < b_end:
            i += 1
        else:
            j += 1
    return out


def subtract[P: _Comparable](
    a: Sequence[tuple[P, P]], b: Sequence[tuple[P, P]]
) -> list[tuple[P, P]]:
    """Every point in ``a`` that is not in ``b``."""
    out: list[tuple[P, P]] = []
    j = 0
    for start, end in a:
        cursor = start
        while j < len(b) and b[j][1] <= cursor:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            if cursor < b[k][0]:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def contains[P: _Comparable](spans: Sequence[tuple[P, P]], start: P, end: P) -> bool:
    """Whether the whole interval ``[start, end)`` lies within one span."""
    lo, hi = 0, len(spans)
    while lo < hi:
        mid = (lo + hi) // 2
        if start < spans[mid][0]:
            hi = mid
        else:
            lo = mid + 1
    return lo > 0 and not spans[lo - 1][1] < end


def total(spans: Iterable[tuple[int, int]]) -> int:
    """Summed length of integer spans."""
    return sum(end - start for start, end in spans)
