"""One shard through the three phases, as the DAG's tasks run it, for tests of a shard on its own."""
from __future__ import annotations

from pipeline.phases.assemble import assemble_shard
from pipeline.phases.plan import Shard
from pipeline.phases.prepare import prepare_shard
from pipeline.phases.results import ShardResult
from pipeline.phases.translate import plan_translation, translate_chunk
from pipeline.settings import RunSettings
from pipeline.store.output import OutputStore


def process_shard(shard: Shard, settings: RunSettings, *, output: OutputStore | None = None) -> ShardResult:
    prepared = prepare_shard(shard, settings, output=output)
    for chunk in plan_translation(settings, [prepared]):
        translate_chunk(chunk, settings)
    return assemble_shard(prepared, settings, output=output)
