"""Work a thread does a step or two ahead of the one that uses it: the bulk loads' DuckDB side (writing CSV
slices) runs while the PostgreSQL side COPYs the slice before."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


class Ahead(Generic[T]):
    """A subclass's `_produce(*args)` runs in a thread of its own and hands each item over with `self._put(item)`,
    at most `depth` items ahead of the reader, which iterates over them in order. An error in `_produce` is
    raised in the reader at its place in the order. `_put` returns False once the reader has called stop():
    `_produce` then returns. stop() ends the thread; call it when done, also after an error."""

    def __init__(self, *args: Any, depth: int = 2) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, args=args, daemon=True)
        self._thread.start()

    def _produce(self, *args: Any) -> None:
        raise NotImplementedError

    def _put(self, item: T | _Failed | object) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, *args: Any) -> None:
        try:
            self._produce(*args)
        except BaseException as error:  # handed to the reading side, which raises it there
            self._put(_Failed(error))
            return
        self._put(_DONE)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
