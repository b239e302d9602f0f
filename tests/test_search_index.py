"""Pagefind at work beside the build: what it leaves when it fails, or when the build fails while it
indexes (the real Pagefind binary, on a small site written here)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from monitor.publish import search_index

pytestmark = pytest.mark.skipif(
    not search_index.available(), reason="no Pagefind here (pip install 'guidance-monitor[search]')"
)


def small_site(folder: Path, pages: int) -> Path:
    (folder / "changes").mkdir(parents=True)
    for number in range(1, pages + 1):
        (folder / "changes" / f"{number}.html").write_text(
            f"<!DOCTYPE html><html lang='en'><head><title>Change {number}</title></head><body><main>"
            f"<h1>Change {number}</h1><p>Schools must publish their attendance policy {number}.</p>"
            "</main></body></html>",
            encoding="utf-8",
        )
    return folder


@pytest.mark.parametrize("in_place", [True, False])
def test_the_index_is_put_in_place_once_pagefind_has_finished(tmp_path, in_place):
    site = small_site(tmp_path / "site", 3)
    with search_index.indexing(site, in_place=in_place):
        (site / "index.html").write_text("written while Pagefind works", encoding="utf-8")
    assert sorted(p.name for p in site.iterdir()) == ["changes", "index.html", search_index.FOLDER]
    assert (site / search_index.FOLDER / "pagefind-entry.json").is_file()


@pytest.mark.parametrize("in_place", [True, False])
def test_a_failure_of_pagefind_is_a_search_index_error_and_leaves_nothing(tmp_path, in_place):
    site = tmp_path / "site"
    site.mkdir()  # nothing for Pagefind to index: it exits with an error
    with pytest.raises(search_index.SearchIndexError, match="Pagefind could not index the site"):
        with search_index.indexing(site, in_place=in_place):
            pass
    assert list(site.iterdir()) == []


@pytest.mark.parametrize("in_place", [True, False])
def test_a_build_that_fails_while_pagefind_works_stops_it_and_leaves_nothing(tmp_path, in_place):
    site = small_site(tmp_path / "site", 200)
    with pytest.raises(RuntimeError, match="the build failed"):
        with search_index.indexing(site, in_place=in_place):
            time.sleep(0.1)
            raise RuntimeError("the build failed")
    # A Pagefind left running would go on to write its folder.
    time.sleep(3)
    assert sorted(p.name for p in site.iterdir()) == ["changes"]
