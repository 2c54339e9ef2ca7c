"""`streamlit run ...` in this process, for the load benchmark, with two signals to answer:

- SIGUSR1 calls gc.freeze() (`--gc freeze` sends it once a warm-up trainer has imported and drawn every page,
  so the objects alive by then leave the collector's generations);
- SIGUSR2 writes the garbage collector's counts and times so far (per generation, timed by a gc callback:
  CPU time of the collecting thread, and wall time) and the number of tracked objects to the file named by
  BACKCARE_GC_STATS.

Nothing else differs from `python -m streamlit run`: same arguments, same config.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time

from streamlit.web import cli

_STATS = {"collections": [0, 0, 0], "seconds": [0.0, 0.0, 0.0], "wall_seconds": [0.0, 0.0, 0.0]}
_STARTED: list[tuple[float, float]] = []


def _time_collections(phase: str, info: dict) -> None:
    # A collection runs in the thread that triggered it and holds the GIL throughout: that thread's CPU
    # time is the collection's CPU time, whatever else the machine is doing.
    if phase == "start":
        _STARTED.append((time.thread_time(), time.perf_counter()))
    elif _STARTED:
        cpu, wall = _STARTED.pop()
        generation = info["generation"]
        _STATS["collections"][generation] += 1
        _STATS["seconds"][generation] += time.thread_time() - cpu
        _STATS["wall_seconds"][generation] += time.perf_counter() - wall


def _write_stats(*_) -> None:
    path = os.environ.get("BACKCARE_GC_STATS")
    if path:
        stats = {**_STATS, "tracked_objects": len(gc.get_objects()), "frozen": gc.get_freeze_count(), "at": time.time()}
        with open(path + ".tmp", "w") as handle:
            json.dump(stats, handle)
        os.replace(path + ".tmp", path)


gc.callbacks.append(_time_collections)
signal.signal(signal.SIGUSR1, lambda *_: gc.freeze())
signal.signal(signal.SIGUSR2, _write_stats)

if __name__ == "__main__":
    sys.exit(cli.main(prog_name="streamlit"))
