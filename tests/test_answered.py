"""An answer that is another page's is a failed check, never a change: ``/a`` answered with ``/b``'s real
page (whole, naming itself by its canonical link and content id; or a bare ``<main>`` naming nothing).
Real GOV.UK pages served by a real server on 127.0.0.1, real runs into a real SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import Response
from run_support import open_store, write_config

from monitor import answered
from monitor.config import load
from monitor.parse import parse
from monitor.pipeline import check_pages

LEGACY = Path(__file__).parent / "fixtures" / "html_legacy"
A = (LEGACY / "eu-exit-secondary-legislation-2019-04.html").read_bytes()
A_PATH = "/guidance/eu-exit-secondary-legislation-laid-with-impacts-on-local-government"
B = (LEGACY / "immigration-statistics-2018-10.html").read_bytes()
B_PATH = "/government/statistics/immigration-statistics-october-to-december-2017-data-tables"
B_MAIN = re.search(rb"<main\b.*?</main>", B, re.S).group(0)  # type: ignore[union-attr]


def check(tmp_path, page_server, body: bytes):
    page_server.routes[A_PATH] = Response(body=body)
    with open_store(tmp_path) as store:
        return check_pages(load(write_config(tmp_path, page_server.base_url, [A_PATH])), store)


def kinds(tmp_path, page_server) -> list[str]:
    with open_store(tmp_path) as store:
        found = store.changes(page_url=page_server.url(A_PATH), include_backfilled=False)
        return [c.kind for c in found]


def test_the_marks_a_page_carries():
    assert answered.marks(A, "text/html") == answered.Marks(A_PATH, "1a3e0caa-7c85-4249-b243-a1283fc1bc67")
    assert answered.marks(B_MAIN, "text/html") == answered.Marks()
    pdf = answered.marks(b"%PDF-1.7 a new edition", "application/pdf")
    assert not pdf.bare, "a PDF cannot name itself: a new title alone is never held as suspect"
    api = b'{"base_path": "/guide", "content_id": "0a544092-d96f-43ba-89f3-072601567724"}'
    assert answered.marks(api, "application/json").path == "/guide"
    guide = answered.marks(api, "application/json")
    assert answered.other_page(["https://www.gov.uk/guide/part-2"], guide, None) is None
    assert (
        answered.other_page(["https://www.gov.uk/other"], guide, None) == "answered with another page: /guide"
    )


def test_another_pages_whole_answer_is_a_failure_and_the_page_back_is_nothing(tmp_path, page_server):
    assert check(tmp_path, page_server, A).changed == 1
    wrong = check(tmp_path, page_server, B)
    assert wrong.changed == 0
    assert [why for _, why in wrong.failures] == [f"answered with another page: {B_PATH}"]
    back = check(tmp_path, page_server, A)
    assert back.changed == 0 and back.failures == []
    assert kinds(tmp_path, page_server) == ["new"]


def test_a_bare_answer_sharing_nothing_is_held_once_and_the_page_back_is_nothing(tmp_path, page_server):
    assert check(tmp_path, page_server, A).changed == 1
    held = check(tmp_path, page_server, B_MAIN)
    assert held.changed == 0
    [(_, why)] = held.failures
    assert why.startswith("held as suspect") and "Immigration statistics" in why
    back = check(tmp_path, page_server, A)
    assert back.changed == 0 and back.failures == []
    assert kinds(tmp_path, page_server) == ["new"]


def test_a_bare_answer_given_twice_running_is_taken_for_the_page(tmp_path, page_server):
    assert check(tmp_path, page_server, A).changed == 1
    assert check(tmp_path, page_server, B_MAIN).failures
    again = check(tmp_path, page_server, B_MAIN)
    assert again.failures == [] and again.changed == 1
    assert len(kinds(tmp_path, page_server)) == 2


def test_a_first_answer_naming_another_page_is_no_new_page(tmp_path, page_server):
    first = check(tmp_path, page_server, B)
    assert first.changed == 0 and first.failures
    assert kinds(tmp_path, page_server) == []
    assert check(tmp_path, page_server, A).changed == 1


def test_the_same_pages_own_answer_with_a_new_title_is_a_change(tmp_path, page_server):
    assert check(tmp_path, page_server, A).changed == 1
    title = parse(A, "https://www.gov.uk" + A_PATH, "text/html").title
    retitled = A.replace(title.encode(), b"A new title for the same page")
    assert check(tmp_path, page_server, retitled).changed == 1
