import os
import sys

# Set before pyarrow is first imported, here and in the worker processes a run starts: Arrow's own
# buffers (a Parquet writer's among them) follow this variable only. See
# pipeline.phases.memory.allocate_arrow_with_malloc, which does what it can once pyarrow is imported.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

from pipeline.cli import main  # noqa: E402

sys.exit(main())
