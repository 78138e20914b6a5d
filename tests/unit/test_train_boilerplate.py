"""The body model's trainer: pages grouped into sites for held-out figures, trees written as scored."""
from __future__ import annotations

import sys

import numpy as np
from project_paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))

import train_boilerplate as trainer  # noqa: E402


def _page(*lines: str) -> dict:
    return {"text": "\n".join(lines)}


MENU = ["Home | World | Business | Technology | Sport", "Subscribe to our daily newsletter today",
        "Copyright 2012 The Harbour Gazette, all rights"]
FOOTER = ["About the Mountain Weekly and its writers", "Advertise with the Mountain Weekly online",
          "Terms of use and privacy of the Mountain Weekly"]


def test_pages_sharing_enough_long_lines_are_one_site() -> None:
    pages = [
        _page(*MENU, "The council approved the budget on Monday."),
        _page(*MENU, "Work on the quay starts in spring."),
        _page("A page that shares only two lines with the Gazette", *MENU[:2]),
        _page(*FOOTER, "Snow closed the pass for a day."),
        _page(*FOOTER, "The ski season opens on Friday."),
        _page("Nothing here is shared with any other page at all", "Short"),
    ]
    sites = trainer.site_groups(pages)
    assert sites[0] == sites[1] and sites[3] == sites[4]
    assert len({sites[0], sites[2], sites[3], sites[5]}) == 4


def test_a_line_printed_by_a_platform_on_many_sites_links_none() -> None:
    platform = ["Notify me of follow-up comments by email.", "Notify me of new posts by email.",
                "Email (will not be published) (required)"]
    pages = [_page(*platform, f"Post number {index} of a blog of its own") for index in
             range(trainer.SITE_LINE_MAX_PAGES)]
    assert len(set(trainer.site_groups(pages))) == len(pages)
    assert len(set(trainer.site_groups(pages[:3]))) == 1


def test_folds_keep_each_site_whole_and_are_drawn_by_the_seed() -> None:
    pages = [_page(*(MENU if index % 3 else FOOTER), f"Story {index}") for index in range(12)]
    pages += [_page(f"A page of a site of its own, number {index}") for index in range(10)]
    sites = trainer.site_groups(pages)
    folds = trainer.site_folds(sites, 5)
    for site in set(sites):
        assert len(set(folds[sites == site])) == 1
    assert set(folds) <= set(range(5)) and len(set(folds)) > 1
    assert np.array_equal(folds, trainer.site_folds(trainer.site_groups(pages), 5))


def test_trees_written_score_as_scikit_learn_scores() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(600, 4))
    labels = features[:, 0] + 0.5 * features[:, 2] ** 2 > 0.3
    ensemble = trainer.fit(features, labels, np.ones(len(labels)), (3, 20))
    scores = 1 / (1 + np.exp(-ensemble.decision(features)))
    assert ensemble.trees == 20 and ensemble.depth == 3
    assert ((scores > 0.5) == labels).mean() > 0.9
