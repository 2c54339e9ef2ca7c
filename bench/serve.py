"""`streamlit run ...` in this process, with SIGUSR1 calling gc.freeze(): the load benchmark's `--gc freeze`
sends the signal once a warm-up trainer has imported and drawn every page, so the objects alive by then
leave the collector's generations and the collection after each run walks only what came later."""

from __future__ import annotations

import gc
import signal
import sys

from streamlit.web import cli

signal.signal(signal.SIGUSR1, lambda *_: gc.freeze())

if __name__ == "__main__":
    sys.exit(cli.main(prog_name="streamlit"))
