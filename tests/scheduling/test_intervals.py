"""The interval algebra: named overlap cases, then properties against point sets."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotwise.scheduling.intervals import (
    contains,
    intersect,
    normalize,
    subtract,
    union,
)

# Each case: a, b, then a - b and a ∩ b. ``a`` is always [10, 20).
OVERLAP_CASES = {
    "b_before_a": ([(0, 5)], [(10, 20)], []),
    "b_touches_a_start": ([(5, 10)], [(10, 20)], []),
    "b_overlaps_a_start": ([(5, 12)], [(12, 20)], [(10, 12)]),
    "b_same_as_a": ([(10, 20)], [], [(10, 20)]),
    "b_inside_a": ([(12, 15)], [(10, 12), (15, 20)], [(12, 15)]),
    "b_contains_a": ([(0, 30)], [], [(10, 20)]),
    "b_shares_start_shorter": ([(10, 15)], [(15, 20)], [(10, 15)]),
    "b_shares_end_shorter": ([(15, 20)], [(10, 15)], [(15, 20)]),
    "b_overlaps_a_end": ([(18, 25)], [(10, 18)], [(18, 20)]),
    "b_touches_a_end": ([(20, 25)], [(10, 20)], []),
    "b_after_a": ([(25, 30)], [(10, 20)], []),
    "b_two_pieces_inside": (
        [(11, 12), (14, 16)],
        [(10, 11), (12, 14), (16, 20)],
        [(11, 12), (14, 16)],
    ),
}


@pytest.mark.parametrize(
    ("b", "difference", "overlap"), OVERLAP_CASES.values(), ids=OVERLAP_CASES.keys()
)
def test_named_overlap_cases(b, difference, overlap):
    a = [(10, 20)]
    assert subtract(a, b) == difference
    assert intersect(a, b) == overlap
    assert intersect(b, a) == overlap
    assert union(subtract(a, b), intersect(a, b)) == a


def test_normalize_merges_touching_and_drops_empty():
    assert normalize([(5, 7), (1, 3), (3, 4), (6, 6), (9, 8)]) == [(1, 4), (5, 7)]


def test_contains_needs_one_span_to_hold_the_whole_interval():
    spans = [(0, 10), (10 + 1, 20)]
    assert contains(spans, 2, 10)
    assert not contains(spans, 9, 12)
    assert not contains(spans, -1, 1)
    assert contains(spans, 11, 20)
    assert not contains([], 0, 1)


def test_algebra_works_on_aware_datetimes():
    t = datetime(2026, 3, 8, 9, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert subtract([(t, t + 8 * hour)], [(t + 3 * hour, t + 4 * hour)]) == [
        (t, t + 3 * hour),
        (t + 4 * hour, t + 8 * hour),
    ]


raw_intervals = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=8)


def points(spans):
    return {p for start, end in spans for p in range(start, end)}


def is_span_list(spans):
    return all(s < e for s, e in spans) and all(
        spans[i][1] < spans[i + 1][0] for i in range(len(spans) - 1)
    )


@given(raw_intervals, raw_intervals)
def test_operations_match_point_sets(a_raw, b_raw):
    a, b = normalize(a_raw), normalize(b_raw)
    assert points(a) == points(a_raw)
    for result, expected in (
        (union(a, b), points(a) | points(b)),
        (intersect(a, b), points(a) & points(b)),
        (subtract(a, b), points(a) - points(b)),
    ):
        assert is_span_list(result)
        assert points(result) == expected


@given(raw_intervals, st.integers(0, 60), st.integers(1, 10))
def test_contains_matches_point_sets(raw, start, length):
    spans = normalize(raw)
    assert contains(spans, start, start + length) == (
        set(range(start, start + length)) <= points(spans)
    )
