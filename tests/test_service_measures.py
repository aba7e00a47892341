"""Service measures over plain records, with figures worked out by hand."""

from __future__ import annotations

from portal.service.measures import Record, combined, measure, percentile

H = 3600


def test_percentile_is_the_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    # 10 values: the 9th; 4 values: ceil(3.6) = the 4th.
    assert percentile([float(v) for v in range(1, 11)], 0.9) == 9.0
    assert percentile([2.0, 6.0, 1.0, 3.0], 0.9) == 6.0


def test_measures_worked_by_hand():
    records = [
        # closed, both promises kept, satisfied
        Record("met", 2 * H, "met", 10 * H, is_open=False, satisfied=True),
        # first answer late, fixed in time, not satisfied
        Record("breached", 6 * H, "met", 20 * H, is_open=False, satisfied=False),
        # answered in time, still being worked on within its promise
        Record("met", 1 * H, "due", None, is_open=True),
        # never answered and past its time: open and overdue
        Record("breached", None, "due", None, is_open=True),
        # answered in time, fixed late, satisfied all the same
        Record("met", 3 * H, "breached", 50 * H, is_open=False, satisfied=True),
    ]
    m = measure(records)
    # Per account, then together (as the measures page does): the same figures.
    assert combined([measure(records[:2]), measure(records[2:]), measure([])]) == m
    assert m.requests == 5
    assert m.response_median == 2.5  # of 1, 2, 3, 6
    assert m.response_p90 == 6.0
    assert m.resolution_median == 20.0  # of 10, 20, 50
    assert m.resolution_p90 == 50.0
    # Promises that fell due: 2 + 2 + 1 + 1 + 2 = 8, kept 2 + 1 + 1 + 0 + 1 = 5.
    assert (m.promises_due, m.promises_kept, m.kept_share) == (8, 5, 0.625)
    assert m.response_kept_share == 0.6  # 3 of 5 first answers
    assert (m.open, m.overdue) == (2, 1)
    assert m.satisfied_share == 2 / 3


def test_no_requests_gives_no_figures():
    m = measure([])
    assert m.response_median is None and m.kept_share is None and m.satisfied_share is None
