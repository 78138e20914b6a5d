"""`python -m pipeline` whose pool processes clean every batch SECONDS late, for the interruption test.

    python tests/helpers/slow_pool_run.py SECONDS run --input ... --output ... --workers 2

A spawned pool process imports this file as its main module (`__mp_main__`) with the command's
arguments, so the delay is set up there and only there: the command's own process prepares its shards
at full speed, and a pool process is still in its first shard when the rest of the run is done.
"""
from __future__ import annotations

import sys
import time

if __name__ == "__mp_main__":
    from pipeline.stages.clean import CleanStage

    _delay = float(sys.argv[1])
    _clean_now = CleanStage.process

    def _clean_late(self: CleanStage, batch: list) -> list:
        time.sleep(_delay)
        return _clean_now(self, batch)

    CleanStage.process = _clean_late   # type: ignore[method-assign]


if __name__ == "__main__":
    from pipeline import cli

    sys.exit(cli.main(sys.argv[2:]))
