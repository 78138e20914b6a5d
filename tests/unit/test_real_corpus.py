"""The real-text benchmark corpus: deterministic, every language present, real boilerplate around bodies."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from project_paths import REPO_ROOT

# The benchmark scripts import each other by file name: a `benchmarks` package from pysbd shadows the folder.
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from real_corpus import write_corpus  # noqa: E402

HEADER = ["Skip to main content", "Home | World | Sport", "Sign in"]
FOOTER = ["Privacy Policy", "Terms of Use", "© 2012 Daily Example"]
SENTENCES = {
    "en": [f"The council met for the {n}th time on Monday." for n in range(40)],
    "fr": [f"Le conseil s'est réuni pour la {n}e fois lundi." for n in range(40)],
    "zh": [f"市议会第{n}次开会。" for n in range(40)],
}


def fake_shared(root: Path) -> Path:
    """A shared folder of the real one's shape: two scraped pages with gold, UD sentences of 3 languages."""
    page = {"id": "dragnet/1", "source": "dragnet", "url": None,
            "scraped_text": "\n".join(HEADER + ["Headline of the story", "Body of the story."] + FOOTER),
            "gold_blocks": [{"tag": "", "text": "Headline of the story"},
                            {"tag": "", "text": "Body of the story."}]}
    other = {"id": "cleaneval-final-dev/7", "source": "cleaneval-final-dev", "url": "http://example.org/",
             "scraped_text": "Forum index\nA post.", "gold_blocks": [{"tag": "p", "text": "A post."}]}
    (root / "boilerplate").mkdir(parents=True)
    (root / "boilerplate" / "dev.jsonl").write_text(json.dumps(page) + "\n", encoding="utf-8")
    (root / "boilerplate" / "cleaneval_final_dev.jsonl").write_text(json.dumps(other) + "\n",
                                                                    encoding="utf-8")
    (root / "langid" / "ud_dev").mkdir(parents=True)
    for lang, lines in SENTENCES.items():
        (root / "langid" / "ud_dev" / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def corpus_files(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def test_real_corpus_parts_languages_and_boilerplate(tmp_path):
    shared = fake_shared(tmp_path / "shared")
    summary = write_corpus(tmp_path / "corpus", shared, records=30, record_files=2, seed=5)

    assert summary["pages"]["files"] == 2
    page = (tmp_path / "corpus" / "pages" / "dragnet" / "1.txt").read_text(encoding="utf-8")
    assert page.startswith(HEADER[0])
    assert set(summary["documents"]["languages"]) == set(SENTENCES)
    for lang in SENTENCES:
        documents = sorted((tmp_path / "corpus" / "documents" / lang).glob("*.txt"))
        assert documents
        for document in documents:
            lines = document.read_text(encoding="utf-8").splitlines()
            assert lines[0] == HEADER[0] and lines[-1] == FOOTER[-1]
            assert any(sentence in document.read_text(encoding="utf-8") for sentence in SENTENCES[lang])
    records = [json.loads(line) for path in sorted((tmp_path / "corpus" / "records").glob("*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines()]
    assert summary["records"]["files"] == 2 and len(records) == 30
    assert len({record["text"] for record in records}) == 30
    assert {record["id"].split("-")[1] for record in records} == set(SENTENCES)


def test_real_corpus_is_deterministic(tmp_path):
    shared = fake_shared(tmp_path / "shared")
    write_corpus(tmp_path / "first", shared, records=20, seed=5)
    write_corpus(tmp_path / "second", shared, records=20, seed=5)
    assert corpus_files(tmp_path / "first") == corpus_files(tmp_path / "second")
