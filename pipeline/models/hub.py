"""The Hugging Face hub: whether it can be used (decided once per process), and fetching a model into the
local store under the weight policy.

Reachability is one HEAD request with a short timeout, remembered for the process, so a firewall that
drops packets costs one timeout per run instead of one per language. The endpoint is ``HF_ENDPOINT``
(default https://huggingface.co), read when it is used.

Weight policy (see models/README.md), in order:

1. ``model.safetensors`` (or a sharded safetensors index) at the requested revision;
2. else ``model.safetensors`` from an open pull request of the hub's conversion bot (``refs/pr/N``),
   with every other file still from the requested revision;
3. else ``pytorch_model.bin``, read only through ``torch.load(weights_only=True)`` (tensors, never
   arbitrary objects) and written once as ``model.safetensors``; the source file's sha256 is recorded.

A fetch is staged in a hidden folder beside the target and moved into place only when complete and
loadable, so an interrupted download never leaves half a model in the store; the staging folder keeps
the partial files and a rerun resumes them.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
REACHABILITY_TIMEOUT = 3.0
# The hub's own bot for safetensors conversions; pull requests by anyone else are not used.
CONVERSION_BOT = "SFconvertbot"
SOURCE_FILE = "model-source.json"   # what a fetched folder came from, written by fetch_model
SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PICKLED_WEIGHTS = "pytorch_model.bin"
# Configuration and tokenizer files of a MarianMT repository; nothing that can hold pickled code.
CONFIG_FILES = (
    "config.json",
    "generation_config.json",
    "source.spm",
    "target.spm",
    "vocab.json",
    "target_vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
_TRUE = {"1", "true", "yes", "on"}


class HubError(Exception):
    """The hub cannot give this model; the message is one line that says why."""


def is_offline() -> bool:
    return any(os.environ.get(var, "").strip().lower() in _TRUE
               for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


@dataclass(frozen=True)
class HubStatus:
    """Whether the hub may be used: "offline" (by setting), "reachable" or "unreachable"."""

    state: str
    endpoint: str
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.state == "reachable"

    def describe(self) -> str:
        if self.state == "offline":
            return "offline (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set)"
        if self.state == "reachable":
            return f"reachable ({self.endpoint})"
        return f"unreachable ({self.endpoint}: {self.detail})"


_STATUS: dict[str, HubStatus] = {}


def hub_status() -> HubStatus:
    """Offline by setting, or the result of one HEAD request to the endpoint, remembered per endpoint."""
    url = endpoint()
    if is_offline():
        return HubStatus("offline", url)
    if url not in _STATUS:
        _STATUS[url] = _probe(url)
        log.info("Hugging Face hub: %s", _STATUS[url].describe())
    return _STATUS[url]


def known_hub_status() -> HubStatus | None:
    """The status if it is known without a request (offline, or already probed), else None."""
    url = endpoint()
    return HubStatus("offline", url) if is_offline() else _STATUS.get(url)


def forget_hub_status() -> None:
    _STATUS.clear()


def _probe(url: str) -> HubStatus:
    request = urllib.request.Request(f"{url}/api/models", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=REACHABILITY_TIMEOUT):
            pass
    except urllib.error.HTTPError:
        pass  # any HTTP answer means the server is there
    except (OSError, ValueError) as error:  # refused, timed out, no route, DNS, malformed URL
        reason = getattr(error, "reason", error)
        return HubStatus("unreachable", url, f"{type(reason).__name__}: {reason}".strip())
    return HubStatus("reachable", url)


@dataclass(frozen=True)
class ModelSource:
    """Where a fetched folder came from; written into it as SOURCE_FILE."""

    repo: str
    requested: str          # the revision asked for ("main", a tag, a commit, refs/pr/N)
    commit: str             # the commit it resolved to (configuration and tokenizer files)
    weights: str            # "safetensors" | "conversion-pr" | "converted-from-bin"
    weights_commit: str     # the commit the weights file came from
    weights_sha256: str = ""   # of the source weights file (the .bin for converted-from-bin)

    @property
    def revision(self) -> str:
        """The revision part of the model's identity: the commit, plus where the weights came from."""
        if self.weights == "conversion-pr":
            return f"{self.commit}+pr-{self.weights_commit[:12]}"
        if self.weights == "converted-from-bin":
            return f"{self.commit}+bin-{self.weights_sha256[:12]}"
        return self.commit

    def matches(self, revision: str | None) -> bool:
        return revision is None or revision in (self.requested, self.commit) or (
            len(revision) >= 7 and self.commit.startswith(revision))


def read_source(directory: Path) -> ModelSource | None:
    path = Path(directory) / SOURCE_FILE
    try:
        return ModelSource(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _progress_bar_class(opened: list):
    """tqdm for huggingface_hub's downloads: one bytes bar with sizes, rate and time left, whatever format
    the library asks for; the bars it opens are collected in `opened` so that they can be closed."""
    from tqdm.auto import tqdm

    class Bar(tqdm):
        def __init__(self, *args, **kwargs):
            if kwargs.get("unit") == "B":
                if str(kwargs.get("desc", "")).startswith("Downloading bytes"):
                    kwargs["disable"] = True  # the same bytes as the other bar; one is enough
                kwargs["desc"] = "download"
                kwargs["bar_format"] = ("{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}B/{total_fmt}B "
                                        "[{elapsed}<{remaining}, {rate_fmt}]")
            kwargs.setdefault("file", sys.stderr)
            super().__init__(*args, **kwargs)
            opened.append(self)

        def set_description(self, desc=None, refresh=True):
            if getattr(self, "unit", None) == "B":
                return super().set_description_str("download", refresh)
            return super().set_description(desc, refresh)

        def set_description_str(self, desc=None, refresh=True):
            super().set_description_str("download" if getattr(self, "unit", None) == "B" else desc, refresh)

    return Bar


def fetch_model(repo: str, revision: str | None, target: Path) -> ModelSource:
    """Download `repo` at `revision` into `target` (replacing it), under the weight policy."""
    status = hub_status()
    if not status.usable:
        raise HubError(f"the hub is {status.describe()}")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    target = Path(target)
    staging = target.parent / f".incoming-{target.name}"
    api = HfApi(endpoint=status.endpoint)
    requested = revision or "main"
    try:
        info = api.repo_info(repo, revision=requested, timeout=30)
        files = {sibling.rfilename for sibling in info.siblings or ()}
        commit = str(info.sha)
        wanted = [name for name in CONFIG_FILES if name in files]
        if "config.json" not in wanted:
            raise HubError(f"{repo}@{requested} has no config.json: not a transformers model repository")
        existing = read_source(target)
        if existing is not None and existing.repo == repo and existing.commit == commit:
            return existing   # already in the store at this commit
        staging.mkdir(parents=True, exist_ok=True)
        if SAFETENSORS in files or SAFETENSORS_INDEX in files:
            weights = [name for name in files if name.endswith(".safetensors") or name == SAFETENSORS_INDEX]
            _download(repo, commit, wanted + weights, staging, status.endpoint)
            source = ModelSource(repo, requested, commit, "safetensors", commit)
        elif (pull := _conversion_pull_request(api, repo)) is not None:
            _download(repo, commit, wanted, staging, status.endpoint)
            _download(repo, pull, [SAFETENSORS], staging, status.endpoint)
            source = ModelSource(repo, requested, commit, "conversion-pr", pull)
        elif PICKLED_WEIGHTS in files:
            _download(repo, commit, wanted + [PICKLED_WEIGHTS], staging, status.endpoint)
            digest = convert_pickled_weights(staging / PICKLED_WEIGHTS, staging / SAFETENSORS)
            source = ModelSource(repo, requested, commit, "converted-from-bin", commit, digest)
        else:
            raise HubError(
                f"{repo}@{requested} has neither {SAFETENSORS}, nor a conversion pull request by "
                f"{CONVERSION_BOT}, nor {PICKLED_WEIGHTS}")
    except HubError:
        raise
    except RevisionNotFoundError as error:
        raise HubError(f"{repo} has no revision {requested!r}") from error
    except RepositoryNotFoundError as error:
        raise HubError(f"{repo} does not exist on {status.endpoint} (or is private)") from error
    except Exception as error:  # a broken connection, an HTTP error, a bad file: one line, and resumable
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise HubError(f"download of {repo}@{requested} failed ({type(error).__name__}: {detail}); "
                       "run the same command again to resume") from error
    (staging / SOURCE_FILE).write_text(json.dumps(asdict(source), indent=1) + "\n", encoding="utf-8")
    _check_loadable(staging)
    _replace(staging, target)
    return source


def _download(repo: str, commit: str, names: list[str], directory: Path, url: str) -> None:
    from huggingface_hub import snapshot_download

    bars: list = []
    try:
        snapshot_download(repo, revision=commit, allow_patterns=names, local_dir=directory, endpoint=url,
                          etag_timeout=10, tqdm_class=_progress_bar_class(bars))
    finally:
        for bar in bars:
            bar.close()


def _conversion_pull_request(api, repo: str) -> str | None:
    """The head commit of the newest open pull request of the conversion bot that adds safetensors."""
    for discussion in api.get_repo_discussions(repo, author=CONVERSION_BOT, discussion_type="pull_request",
                                               discussion_status="open"):
        info = api.repo_info(repo, revision=f"refs/pr/{discussion.num}", timeout=30)
        if any(sibling.rfilename == SAFETENSORS for sibling in info.siblings or ()):
            return str(info.sha)
    return None


def convert_pickled_weights(source: Path, target: Path) -> str:
    """Write `source` (a PyTorch state dict) as safetensors; returns the source's sha256.

    ``torch.load(weights_only=True)`` only rebuilds tensors and plain containers: a file that holds any
    other object is refused, never executed. Tensors sharing memory (tied embeddings) are stored once,
    as save_pretrained does; loading ties them again.
    """
    import torch
    from safetensors.torch import save_file

    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # the unpickler refuses anything but tensors: say so, in one line
        raise HubError(f"{source.name} is not a plain PyTorch state dict ({type(error).__name__}); "
                       "refusing to load it") from error
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise HubError(f"{source.name} does not hold a mapping of names to tensors")
    kept: dict[str, torch.Tensor] = {}
    storages: set[tuple[int, int, tuple[int, ...]]] = set()
    # The tied copies transformers re-creates from model.shared are the ones left out.
    for name in sorted(state, key=lambda key: (key != "model.shared.weight", key)):
        tensor = state[name]
        key = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape))
        if tensor.numel() and key in storages:
            continue
        storages.add(key)
        kept[name] = tensor.contiguous()
    save_file(kept, str(target), metadata={"format": "pt", "converted_from_sha256": digest.hexdigest()})
    source.unlink()
    return digest.hexdigest()


def _check_loadable(directory: Path) -> None:
    """The staged folder must load as a MarianMT model with no weight left uninitialised."""
    from transformers import MarianMTModel
    from transformers.utils import logging as transformers_logging

    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()   # a second bar after the download's would only confuse
    try:
        _, info = MarianMTModel.from_pretrained(directory, use_safetensors=True, output_loading_info=True)
    except Exception as error:  # whatever the reason, the folder is not a usable model
        raise HubError(f"the downloaded model does not load ({type(error).__name__}: {error})") from error
    finally:
        if bars:
            transformers_logging.enable_progress_bar()
    missing = [name for name in info.get("missing_keys", ()) if "embed_positions" not in name]
    if missing:
        raise HubError(f"the downloaded weights lack {len(missing)} tensors (e.g. {missing[0]})")


def _replace(staging: Path, target: Path) -> None:
    previous = target.parent / f".previous-{target.name}"
    if previous.exists():
        shutil.rmtree(previous)
    if target.exists():
        target.rename(previous)
    staging.rename(target)
    if previous.exists():
        shutil.rmtree(previous)
