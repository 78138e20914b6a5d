"""`python -m pipeline` with a pause inside every shard commit, for the crash and concurrency tests.

    python tests/helpers/pausing_run.py SECONDS run --input ... --output ...

The pause comes after a shard's parts are written into its staging directory and before its commit
marker is: the moment a kill leaves a shard half written, and a second run meets a shard in flight.
A run that completes without ever pausing exits with status 3, so that a change to how the marker is
written cannot silently take the pause, and with it the test's point, away.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

NO_PAUSE_STATUS = 3


def main(argv: list[str]) -> int:
    seconds, arguments = float(argv[0]), argv[1:]
    from pipeline import cli
    from pipeline.store import output as write

    write_marker_or_other = write.write_text_atomic
    pauses = 0

    def pausing(text: str, path: Path) -> None:
        nonlocal pauses
        if Path(path).name == write.COMMIT_MARKER:
            pauses += 1
            time.sleep(seconds)
        write_marker_or_other(text, path)

    write.write_text_atomic = pausing
    status = cli.main(arguments)
    if status == 0 and pauses == 0:
        print(f"error: no commit paused: {write.COMMIT_MARKER} is no longer written through "
              "pipeline.store.output.write_text_atomic", file=sys.stderr)
        return NO_PAUSE_STATUS
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
