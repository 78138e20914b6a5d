#!/usr/bin/env bash
# The main job: install the project (once), prepare a project-local Airflow in .airflow/, run the
# `multilingual_pipeline` DAG over samples/ into output/, and print what it wrote.
#
# Safe to run again: finished installs are skipped, and documents already in output/ are not added twice.
# Environment: PYTHON (default python3.11), MLP_POOL_SLOTS (default 2), MLP_FETCH_MODELS (default 1:
# when the Hugging Face hub is reachable, download the translation models the samples need into models/,
# about 300 MB each; 0 skips it), HF_HUB_OFFLINE (default 1 for the DAG run itself: it uses only models
# already in models/ or the Hugging Face cache; set it to 1 before the script to skip the fetch too).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO="$(pwd)"
VENV="$REPO/.venv"
PY="$VENV/bin/python"
POOL="${MLP_TRANSLATION_POOL:-mlp_translation}"
started=$SECONDS

step() { printf '==> %s\n' "$*"; }

source scripts/install.sh

export AIRFLOW_HOME="$REPO/.airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
SAMPLES=("samples/*.txt" "samples/*.html" "samples/*.jsonl")
if [ "${MLP_FETCH_MODELS:-1}" != "0" ] && [ "${HF_HUB_OFFLINE:-0}" != "1" ]; then
    # Asks the hub once (3 s timeout); unreachable, it prints how to get each model and the run goes on.
    step "translation models for the samples (about 300 MB each; MLP_FETCH_MODELS=0 skips this)"
    HF_HUB_OFFLINE=0 TRANSFORMERS_OFFLINE=0 "$PY" -m pipeline models --models-dir models prefetch \
        --input "${SAMPLES[@]}" || echo "warning: fetching models failed; running with the models at hand" >&2
fi
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-$HF_HUB_OFFLINE}"
AIRFLOW="$VENV/bin/airflow"
run_id="sample-$(date -u +%Y%m%dT%H%M%SZ)"
# One log per run: a rerun, which skips every document, would otherwise replace the first run's log.
LOG="$AIRFLOW_HOME/run_sample-$run_id.log"
mkdir -p "$AIRFLOW_HOME"
if [ ! -f "$AIRFLOW_HOME/airflow.cfg" ]; then
    # The same settings for `airflow standalone` later: this project's DAGs only, API on loopback only,
    # a small parallelism (the default of 32 starts about 38 processes), and fixed secrets (without a
    # shared jwt_secret each Airflow process makes its own and the workers' tokens are refused).
    read -r fernet_key secret_key jwt_secret <<< "$("$PY" -c 'import base64, os, secrets
print(base64.urlsafe_b64encode(os.urandom(32)).decode(), secrets.token_urlsafe(16), secrets.token_urlsafe(32))')"
    umask 077
    cat > "$AIRFLOW_HOME/airflow.cfg" <<EOF
[core]
dags_folder = $REPO/dags
load_examples = False
parallelism = 4
fernet_key = $fernet_key

[api]
host = 127.0.0.1
secret_key = $secret_key

[api_auth]
jwt_secret = $jwt_secret
EOF
    umask 022
fi

step "preparing Airflow in $AIRFLOW_HOME (embedded SQLite database, pool $POOL)"
"$AIRFLOW" db migrate >> "$LOG" 2>&1 || { tail -20 "$LOG"; exit 1; }
"$AIRFLOW" pools set "$POOL" "${MLP_POOL_SLOTS:-2}" "shard tasks of the multilingual pipeline (each may hold translation models)" >> "$LOG" 2>&1 \
    || { tail -20 "$LOG"; exit 1; }
import_errors="$("$AIRFLOW" dags list-import-errors --local -o json 2>> "$LOG" | sed -n '/^\[/,$p')"
if [ "$import_errors" != "[]" ]; then
    echo "error: the DAG files do not import:" >&2
    echo "$import_errors" >&2
    exit 1
fi

conf="{\"input\": [\"samples/*.txt\", \"samples/*.html\", \"samples/*.jsonl\"], \"output\": \"output\", \"run_id\": \"$run_id\"}"
step "running the DAG: airflow dags test multilingual_pipeline -c '$conf'"
if ! "$AIRFLOW" dags test multilingual_pipeline -c "$conf" >> "$LOG" 2>&1; then
    echo "error: the DAG run did not succeed; the end of its log ($LOG):" >&2
    tail -40 "$LOG" >&2
    exit 1
fi

"$PY" - "$REPO/output/runs/$run_id.json" "$((SECONDS - started))" "$LOG" <<'PYTHON'
"""Summary of the sample run: what this run added, and what the output now holds."""
import json
import sys
from pathlib import Path

import pandas

from pipeline.models.registry import Registry, fetch_hint

manifest_path, total_seconds, log_path = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
manifest = json.loads(manifest_path.read_text())
output = Path(manifest["settings"]["output"])
counts = manifest["counts"]
documents = pandas.read_parquet(output / "documents", columns=["src_lang"])
sentences = pandas.read_parquet(output / "sentences", columns=["src_lang", "status", "status_detail"])
rejects = pandas.read_parquet(output / "rejects", columns=["source_path", "reason", "detail"])

print(f"\nRun {manifest['run_id']}: {sum(counts['documents'].values())} new documents, "
      f"{counts['skipped_documents']} already in the output; pipeline {manifest['seconds']:.1f} s, "
      f"whole job {total_seconds} s")
per_language = documents["src_lang"].value_counts().sort_index()
print("Documents per language: " + ", ".join(f"{lang} {count}" for lang, count in per_language.items()))
status = sentences["status"].value_counts()
print(f"Sentences: {len(sentences)} ({status.get('translated', 0)} translated, "
      f"{status.get('source_is_english', 0)} English, {status.get('untranslated', 0)} untranslated)")
print(f"Rejects: {len(rejects)}")
for row in rejects.itertuples():
    print(f"  {Path(row.source_path).name}: {row.reason} ({row.detail})")
untranslated = sentences[sentences["status"] == "untranslated"]
missing = sorted(set(untranslated.loc[untranslated["status_detail"].isin(
    ["model_not_available", "no_model_for_language"]), "src_lang"]))
if missing:
    print("No translation model for: " + ", ".join(missing))
    # A rerun translates nothing, so its manifest has no hints: the registry gives the same ones.
    models_dir = Path(manifest["settings"]["models_dir"])
    hints, registry = manifest.get("missing_models", {}), Registry(models_dir)
    for lang in missing:
        choice = registry.choice(lang)
        from_registry = ((f"{choice.spec}: " if choice else "")
                         + fetch_hint(lang, models_dir, choice and choice.hub_id))
        print(f"  {lang}: " + hints.get(lang, from_registry))
        if lang not in per_language:
            print(f"  {lang}: no document is in {lang}; it occurs in paragraphs of documents in other languages")
print(f"Files: {output}/{{documents,paragraphs,sentences,rejects,removed}}/ (Parquet; one committed state "
      f"of them is listed in {output}/snapshot.json, read by pipeline.read_output), manifest {manifest_path}")
report = manifest_path.with_suffix(".html")
if report.exists():
    print(f"Report of this run: {report} (open it in a browser; scripts/screenshot_report.sh makes a PNG)")
print(f"Airflow log of this run: {log_path}")
PYTHON
