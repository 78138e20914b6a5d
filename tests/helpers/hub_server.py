"""A local HTTP server speaking the part of the Hugging Face hub protocol that `huggingface_hub` uses.

Enough for `HfApi.repo_info`, `list_repo_tree`, `get_repo_discussions`, `hf_hub_download` and
`snapshot_download` (huggingface_hub 2.x):

- ``GET /api/models/{org}/{name}[/revision/{rev}]``: the commit ``sha`` and the ``siblings``;
- ``GET /api/models/{org}/{name}/tree/{rev}``: files with size, git blob ``oid`` and, for large files,
  ``lfs`` (sha256);
- ``GET /api/models/{org}/{name}/discussions``: pull requests, filtered by author, type and status;
- ``HEAD``/``GET /{org}/{name}/resolve/{rev}/{file}``: small files answered directly with
  ``X-Repo-Commit``, ``ETag`` (git blob id) and ``Content-Length``; large files (weights) redirected to a
  "CDN" on another host name (``localhost`` instead of ``127.0.0.1``) with ``X-Linked-Etag`` (sha256) and
  ``X-Linked-Size``, which is what makes the client take the metadata from the redirect itself;
- ``Range`` requests (206), so an interrupted download resumes.

Revisions are branches, tags, commits (40 hex digits) and ``refs/pr/N``. Errors carry the hub's
``X-Error-Code`` (RepoNotFound, RevisionNotFound, EntryNotFound). Xet is never advertised, so the client
downloads over plain HTTP. Faults for tests: ``cut`` (close the connection half-way through a file's
body, a number of times) and a ``blackhole`` socket that accepts connections and never answers.
"""
from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".h5", ".msgpack")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class PullRequest:
    num: int
    author: str
    title: str
    status: str = "open"


@dataclass
class HubRepo:
    repo_id: str
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)   # sha -> path -> content
    refs: dict[str, str] = field(default_factory=dict)                    # branch, tag or refs/pr/N -> sha
    pulls: list[PullRequest] = field(default_factory=list)

    def resolve(self, revision: str) -> str | None:
        if revision in self.refs:
            return self.refs[revision]
        if _COMMIT.match(revision) and revision in self.commits:
            return revision
        return None


class HubServer:
    """The server and its repositories; start() binds 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.repos: dict[str, HubRepo] = {}
        self.cut: dict[str, int] = {}          # file name -> how many more downloads to cut half-way
        self.requests: list[tuple[str, str, str | None]] = []   # (method, path, Range header)
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # -- repositories ------------------------------------------------------------------------------

    def commit(self, repo_id: str, files: dict[str, bytes], ref: str = "main") -> str:
        """Add a commit holding exactly `files` and point `ref` at it; returns the commit id."""
        repo = self.repos.setdefault(repo_id, HubRepo(repo_id))
        digest = hashlib.sha1(repo_id.encode() + ref.encode() + str(len(repo.commits)).encode())
        for path in sorted(files):
            digest.update(path.encode() + hashlib.sha256(files[path]).digest())
        sha = digest.hexdigest()
        repo.commits[sha] = dict(files)
        repo.refs[ref] = sha
        return sha

    def pull_request(self, repo_id: str, files: dict[str, bytes], author: str, title: str) -> int:
        """Open a pull request whose head commit is `files`; returns its number N (ref refs/pr/N)."""
        repo = self.repos[repo_id]
        num = len(repo.pulls) + 1
        self.commit(repo_id, files, ref=f"refs/pr/{num}")
        repo.pulls.append(PullRequest(num, author, title))
        return num

    def add_model_directory(self, repo_id: str, directory: Path, *, ref: str = "main",
                            skip: tuple[str, ...] = (), extra: dict[str, bytes] | None = None) -> str:
        files = {path.name: path.read_bytes() for path in sorted(Path(directory).iterdir())
                 if path.is_file() and path.name not in skip}
        files.update(extra or {})
        return self.commit(repo_id, files, ref)

    # -- serving -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def cdn_url(self) -> str:
        assert self._server is not None
        return f"http://localhost:{self._server.server_address[1]}"

    def start(self) -> HubServer:
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def take_cut(self, name: str) -> bool:
        with self._lock:
            if self.cut.get(name, 0) > 0:
                self.cut[name] -= 1
                return True
            return False

    def blob(self, sha256: str) -> tuple[str, bytes] | None:
        for repo in self.repos.values():
            for files in repo.commits.values():
                for path, data in files.items():
                    if hashlib.sha256(data).hexdigest() == sha256:
                        return path, data
        return None


class _Handler(BaseHTTPRequestHandler):
    server_hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        return

    def do_HEAD(self) -> None:
        self._dispatch(body=False)

    def do_GET(self) -> None:
        self._dispatch(body=True)

    # -- routing -----------------------------------------------------------------------------------

    def _dispatch(self, body: bool) -> None:
        hub = self.server_hub
        split = urlsplit(self.path)
        hub.requests.append((self.command, split.path, self.headers.get("Range")))
        parts = [unquote(part) for part in split.path.split("/")[1:]]
        query = parse_qs(split.query)
        if parts[:1] == ["cdn"] and len(parts) == 2:
            return self._cdn(parts[1], body)
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            repo = hub.repos.get(f"{parts[2]}/{parts[3]}")
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found")
            rest = parts[4:]
            if not rest:
                return self._info(repo, "main")
            if rest[0] == "revision" and len(rest) >= 2:
                return self._info(repo, "/".join(rest[1:]))
            if rest[0] == "tree" and len(rest) >= 2:
                return self._tree(repo, "/".join(rest[1:]))
            if rest == ["discussions"]:
                return self._discussions(repo, query)
            return self._error(404, None, "Not found")
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = hub.repos.get(f"{parts[0]}/{parts[1]}")
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found")
            return self._resolve(repo, parts[3], "/".join(parts[4:]), body)
        return self._error(404, None, "Not found")

    # -- answers -----------------------------------------------------------------------------------

    def _json(self, data, status: int = 200) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str | None, message: str, commit: str | None = None) -> None:
        payload = json.dumps({"error": message}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _commit_of(self, repo: HubRepo, revision: str) -> str | None:
        sha = repo.resolve(revision)
        if sha is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return sha

    def _info(self, repo: HubRepo, revision: str) -> None:
        sha = self._commit_of(repo, revision)
        if sha is None:
            return
        files = repo.commits[sha]
        self._json({"_id": sha[:24], "id": repo.repo_id, "modelId": repo.repo_id, "sha": sha,
                    "private": False, "disabled": False, "gated": False, "downloads": 0, "likes": 0,
                    "tags": ["marian"], "lastModified": "2026-01-01T00:00:00.000Z",
                    "siblings": [{"rfilename": path} for path in sorted(files)]})

    def _tree(self, repo: HubRepo, revision: str) -> None:
        sha = self._commit_of(repo, revision)
        if sha is None:
            return
        entries = []
        for path, data in sorted(repo.commits[sha].items()):
            entry = {"type": "file", "path": path, "size": len(data), "oid": git_blob_id(data)}
            if path.endswith(LFS_SUFFIXES):
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                                "pointerSize": 134}
            entries.append(entry)
        self._json(entries)

    def _discussions(self, repo: HubRepo, query: dict[str, list[str]]) -> None:
        wanted_author = query.get("author", [None])[0]
        wanted_status = query.get("status", ["all"])[0]
        pulls = [pull for pull in repo.pulls
                 if (wanted_author is None or pull.author == wanted_author)
                 and wanted_status in ("all", pull.status)]
        self._json({"count": len(pulls), "start": 0, "numClosedDiscussions": 0, "discussions": [
            {"num": pull.num, "title": pull.title, "status": pull.status, "isPullRequest": True,
             "author": {"name": pull.author}, "createdAt": "2026-01-01T00:00:00.000Z",
             "repo": {"name": repo.repo_id, "type": "model"}} for pull in reversed(pulls)]})

    def _resolve(self, repo: HubRepo, revision: str, path: str, body: bool) -> None:
        sha = self._commit_of(repo, revision)
        if sha is None:
            return
        files = repo.commits[sha]
        if path not in files:
            return self._error(404, "EntryNotFound", f"{path} does not exist on {revision}", commit=sha)
        data = files[path]
        if path.endswith(LFS_SUFFIXES):
            digest = hashlib.sha256(data).hexdigest()
            self.send_response(302)
            self.send_header("Location", f"{self.server_hub.cdn_url}/cdn/{digest}")
            self.send_header("X-Repo-Commit", sha)
            self.send_header("X-Linked-Etag", f'"{digest}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("ETag", f'"{git_blob_id(data)}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send_bytes(path, data, body, {"X-Repo-Commit": sha, "ETag": f'"{git_blob_id(data)}"'})

    def _cdn(self, digest: str, body: bool) -> None:
        found = self.server_hub.blob(digest)
        if found is None:
            return self._error(404, None, "No such object")
        path, data = found
        self._send_bytes(path, data, body, {"ETag": f'"{digest}"'})

    def _send_bytes(self, path: str, data: bytes, body: bool, headers: dict[str, str]) -> None:
        start = 0
        requested = self.headers.get("Range")
        match = re.match(r"bytes=(\d+)-$", requested or "")
        if match and int(match.group(1)) < len(data):
            start = int(match.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if not body:
            return
        if self.server_hub.take_cut(Path(path).name):
            # Half the body, then the connection drops: what a broken download looks like to the client.
            self.wfile.write(data[start:start + (len(data) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data[start:])


def blackhole() -> socket.socket:
    """A listening socket that never accepts: connections open, and no answer ever comes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def refused_url() -> str:
    """The URL of a port where nothing listens (connections are refused at once)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
