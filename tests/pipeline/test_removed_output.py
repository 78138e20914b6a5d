"""A run writes the lines cleaning removed to removed/ and labels paragraphs and sentences with their
region; --force replaces removed/ rows with the document's, --no-write-removed writes none, and
--comments drop leaves readers' comments out of the output; kept paragraphs carry their body score."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import cli, clean, read_output

BLOG_PAGE = """Home | News | Sport | Contact

How our town rebuilt its old harbour

The old harbour of our town was closed for twenty years after the storm of 1998 destroyed the pier.
Last spring the council finally agreed to rebuild it with money from the regional fund and local donors.
Fishermen who had moved their boats to the next village are now coming back, and the market is busy again.
The new pier is longer than the old one and can take the ferry that links the islands twice a day.

3 comments

Anna says:
I grew up near the harbour and it is wonderful to see the boats back again after all these years.

Tom wrote:
The ferry is a great idea, but parking near the pier is still a problem for visitors in the summer.

Copyright 2024 Town News. All rights reserved.
"""


def _run(inputs: Path, output: Path, run_id: str, *flags: str) -> None:
    status = cli.main(["run", "--input", str(inputs), "--output", str(output), "--run-id", run_id,
                       "--models-dir", str(output.parent / "no-models"), "--workers", "1",
                       "--body-threshold", "0", *flags])
    assert status == 0


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("removed")
    (root / "in").mkdir()
    (root / "in" / "blog.txt").write_text(BLOG_PAGE, encoding="utf-8")
    return root / "in", root / "out"


def test_removed_lines_regions_and_the_settings_that_change_them(blog: tuple[Path, Path]) -> None:
    inputs, output = blog
    _run(inputs, output, "first")
    removed = read_output(output, "removed").sort_values("line_no")
    assert removed[["line_no", "reason"]].values.tolist() == [
        [0, "navigation"], [2, "title"], [9, "comment_prompt"], [17, "copyright"]]
    assert removed["score"].isna().all() and set(removed["src_lang"]) == {"en"}
    documents = read_output(output, "documents")
    assert documents["n_boilerplate_removed"].tolist() == [len(removed)]
    paragraphs = read_output(output, "paragraphs").sort_values("para_id")
    assert paragraphs["region"].tolist() == ["main"] * 4 + ["comments"] * 4
    sentences = read_output(output, "sentences", region="comments")
    assert set(sentences["para_id"]) == {4, 5, 6, 7}

    _run(inputs, output, "quiet", "--force", "--no-write-removed")
    assert read_output(output, "removed").empty
    assert len(read_output(output, "paragraphs")) == 8

    _run(inputs, output, "dropped", "--force", "--comments", "drop")
    assert read_output(output, "paragraphs")["region"].tolist() == ["main"] * 4
    dropped = read_output(output, "removed", reason="comments")
    assert sorted(dropped["line_no"]) == [11, 12, 14, 15] and set(dropped["run_id"]) == {"dropped"}


def test_kept_paragraphs_carry_the_body_score_cleaning_gave_their_first_line(blog: tuple[Path, Path]) -> None:
    inputs, output = blog
    _run(inputs, output, "scored", "--force")
    cleaned = clean(BLOG_PAGE, threshold=0)
    assert len(cleaned.line_scores) == len(cleaned.paragraphs) == 8   # the page was scored
    paragraphs = read_output(output, "paragraphs").sort_values("para_id")
    assert paragraphs["body_score"].tolist() == list(cleaned.line_scores)
    assert paragraphs["body_score"].between(0, 1).all()
    # A one-line document is not scored: its paragraph has no score.
    note = inputs / "note.txt"
    note.write_text("A single sentence of prose with nothing around it at all.", encoding="utf-8")
    try:
        _run(inputs, output, "note")
    finally:
        note.unlink()
    (doc_id,) = read_output(output, "documents", source_path=str(note))["doc_id"]
    assert read_output(output, "paragraphs", doc_id=doc_id)["body_score"].isna().all()
