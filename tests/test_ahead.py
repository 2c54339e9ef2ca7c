"""backcare.store.ahead.Ahead, the thread the bulk loads' DuckDB side runs in ahead of the COPY: items in
order, an error raised in the reader where it happened, and a stop that ends the thread even when the reader
leaves early."""

from __future__ import annotations

import pytest

from backcare.store.ahead import Ahead


class Counting(Ahead[int]):
    def __init__(self, upto: int, fail_at: int | None = None):
        self.made: list[int] = []
        super().__init__(upto, fail_at)

    def _produce(self, upto: int, fail_at: int | None) -> None:
        for n in range(upto):
            if n == fail_at:
                raise ValueError(f"no {n}")
            self.made.append(n)
            if not self._put(n):
                return


def test_the_items_come_in_order_and_the_thread_ends():
    counting = Counting(50)
    assert list(counting) == list(range(50))
    counting.stop()
    assert not counting._thread.is_alive()


def test_an_error_is_raised_in_the_reader_after_the_items_made_before_it():
    counting = Counting(10, fail_at=4)
    got = []
    with pytest.raises(ValueError, match="no 4"):
        for n in counting:
            got.append(n)
    counting.stop()
    assert got == [0, 1, 2, 3]


def test_a_reader_that_stops_early_ends_the_thread_and_the_producer_stays_at_most_a_step_or_two_ahead():
    counting = Counting(1_000_000)
    first = next(iter(counting))
    counting.stop()
    assert first == 0 and not counting._thread.is_alive()
    assert len(counting.made) <= 4  # the one read, two queued, one waiting to be queued
