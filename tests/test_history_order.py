"""`history URL` lists a page's changes newest found first, GOV.UK's own date beside each.

A page a search found is announced first; its first read then adds the history GOV.UK had already
published, found later but dated years earlier. Listing by GOV.UK's date for some lines and by when
each was found for others put 2022 above 2026.
"""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from run_support import open_store, write_config

from monitor import changes as changes_module
from monitor.cli import main
from monitor.model import Change, Document, FetchResult, HistoryEntry, PageUpdate

URL = "https://www.gov.uk/guidance/school-funding"
FOUND = "2026-12-07T09:00:00Z"
READ = "2026-12-07T10:05:00Z"


def test_history_lists_by_when_found_with_govuks_date_beside(tmp_path):
    config = write_config(tmp_path, "https://www.gov.uk", [URL])
    with open_store(tmp_path) as store:
        store.upsert_page(URL, title="School funding")
        announced = store.add_change(
            Change(URL, "new", FOUND, "School funding", note="Found by search", effective_date="2026-12-07")
        )
        history = [
            HistoryEntry("2022-08-18", "Added the 2023 rates."),
            HistoryEntry("2021-03-01", "First published."),
        ]
        document = Document(URL, "School funding", change_history=history)
        backfilled = changes_module.backfill(URL, document, READ)
        store.write(PageUpdate(URL, FetchResult(URL, URL, 200), READ, changes=backfilled))

    text = CliRunner().invoke(main, ["history", URL, "--config", str(config)])
    assert text.exit_code == 0, text.output
    line = r"^  #(\d+)  (\d{4}-\d\d-\d\d \d\d:\d\d) GMT  \((?:GOV\.UK )?([^)]*)\)"
    lines = re.findall(line, text.output, re.M)
    assert [found for _, found, _ in lines] == ["2026-12-07 10:05", "2026-12-07 10:05", "2026-12-07 09:00"]
    assert [dated for _, _, dated in lines] == ["2022-08-18", "2021-03-01", "no GOV.UK date"]
    assert lines[-1][0] == str(announced.id)

    raw = CliRunner().invoke(main, ["history", URL, "--config", str(config), "--format", "json"])
    listed = json.loads(raw.output)["changes"]
    assert [c["detected_at"] for c in listed] == sorted((c["detected_at"] for c in listed), reverse=True)
    assert [c["govuk_date"] for c in listed] == ["2022-08-18", "2021-03-01", None]
    assert [c["effective_date"] for c in listed] == ["2022-08-18", "2021-03-01", "2026-12-07"]
