"""Cluster policy for the KubernetesExecutor: the translation queue's tasks run in the GPU pod template.

Put this file on the PYTHONPATH of the scheduler and dag-processor (e.g. $AIRFLOW_HOME/config/) and the
template at POD_TEMPLATE. The KubernetesExecutor does not route by queue; this policy turns the queue the
DAG gives its shard tasks (MLP_TRANSLATION_QUEUE) into their pod template, so the DAG stays the same
under every executor.
"""
from __future__ import annotations

import os

POD_TEMPLATE = os.environ.get("MLP_TRANSLATION_POD_TEMPLATE",
                              "/opt/airflow/pod_templates/pod-template-translation.yaml")


def task_policy(task) -> None:
    translation_queue = os.environ.get("MLP_TRANSLATION_QUEUE", "default")
    if translation_queue == "default" or task.queue != translation_queue:
        return
    executor_config = {**(task.executor_config or {}), "pod_template_file": POD_TEMPLATE}
    if hasattr(task, "partial_kwargs"):   # a mapped task (the shards) keeps its arguments there
        task.partial_kwargs["executor_config"] = executor_config
    else:
        task.executor_config = executor_config
