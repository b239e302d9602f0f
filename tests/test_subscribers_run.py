"""Three subscribers over a replayed fortnight: real DfE captures served from 127.0.0.1 change on given
runs, a GOV.UK search finds the SEND page, and the digests go through a real aiosmtpd server.

The run's clock is injected (``pipeline.run(now=...)``): runs at 07:00 and 13:00 London from Monday 30
November 2026. A reporter wants two pages immediately, a SENCO the pages of a search daily, a head
teacher everything weekly on Mondays. The mail server is down for the Wednesday 07:00 run and for the
next Monday 07:00 run. Each must receive exactly the changes of their pages, each once, at their rhythm.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import Request, Response
from run_support import ATTENDANCE, SEND, SMHL, capture, captures, page_path
from test_deliver import MailServer, free_port, parts

from monitor import pipeline
from monitor.config import ConfigError, from_mapping, load
from monitor.deliver import deliver_pending, london_day_start
from monitor.store import Store

SITE_URL = "https://changes.example.org"
SEARCH = "DfE SEND guidance"
REPORTER = "reporter@paper.example"
SENCO = "senco@school.example"
HEAD = "head@school.example"

SEND_CAPTURES = captures(SEND)

# Which capture each page shows from a run on (day offset from Monday 30 November, hour UTC = London).
SHOWN = {
    ATTENDANCE: {(0, 7): capture(ATTENDANCE, "2022-05-06"), (0, 13): capture(ATTENDANCE, "2022-08-04")},
    SMHL: {(0, 7): capture(SMHL, "2022-07-11"), (2, 7): capture(SMHL, "2022-08-18")},
    SEND: {
        (0, 7): SEND_CAPTURES[0],
        (1, 7): SEND_CAPTURES[1],
        (1, 13): SEND_CAPTURES[2],
        (2, 7): SEND_CAPTURES[3],
        (4, 7): SEND_CAPTURES[5],
        (7, 13): SEND_CAPTURES[6],
    },
}
MAIL_DOWN = {(2, 7), (7, 7)}
RUNS = [(day, hour) for day in range(9) for hour in (7, 13)][:-1]  # to Tuesday 8 December 07:00
START = datetime(2026, 11, 30, tzinfo=UTC)


class SearchApi:
    """GOV.UK's Search API answering with the SEND page; its ``public_timestamp`` moves when the page
    changes, as GOV.UK's does for a major change (so discovery lets the page be fetched again)."""

    def __init__(self) -> None:
        self.stamp = "2021-02-04T09:00:00Z"

    def __call__(self, request: Request) -> Response:
        body = {
            "results": [
                {
                    "link": page_path(SEND),
                    "title": "Special schools and other specialist settings: coronavirus (COVID-19)",
                    "public_timestamp": self.stamp,
                    "latest_change_note": "Updated guidance.",
                    "format": "publication",
                    "content_store_document_type": "guidance",
                }
            ],
            "total": 1,
            "start": 0,
            "facets": {},
            "suggested_queries": [],
        }
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def write_config(tmp: Path, base_url: str, port: int) -> Path:
    data = {
        "database": "monitor.db",
        "site_dir": "site",
        "govuk_base_url": base_url,
        "pages": [page_path(ATTENDANCE), page_path(SMHL)],
        "searches": [{"name": SEARCH, "query": "special schools"}],
        "fetch": {"source": "html", "timeout": 5, "retries": 1, "rate_per_host": 200},
        "digest": {
            "site_url": SITE_URL,
            "email": {
                "from": "monitor@school.example",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "starttls": False,
            },
            "subscribers": [
                {
                    "email": REPORTER,
                    "pages": [base_url + page_path(ATTENDANCE), "/guidance/senior-mental-health-*"],
                    "frequency": "immediate",
                },
                {"email": SENCO, "searches": [SEARCH], "frequency": "daily"},
                {"email": HEAD, "frequency": "weekly", "day": "monday"},
            ],
        },
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def change_ids(message) -> list[int]:
    return [int(i) for i in message["X-Guidance-Monitor-Changes"].split(",")]


def test_three_subscribers_each_get_their_changes_once_at_their_rhythm_through_two_outages(
    tmp_path: Path, page_server
) -> None:
    mail = MailServer(free_port())
    mail.start()
    search = SearchApi()
    page_server.routes["/api/search.json"] = search
    config = load(write_config(tmp_path, page_server.base_url, mail.port))
    received: dict[tuple[int, int], list] = {}
    try:
        for run in RUNS:
            for folder, shown in SHOWN.items():
                if run in shown:
                    page_server.routes[page_path(folder)] = Response(body=shown[run])
                    if folder == SEND:
                        search.stamp = f"2026-12-{run[0] + 1:02d}T{run[1]:02d}:00:00Z"
            if run in MAIL_DOWN:
                mail.stop()
            before = len(mail.inbox.messages)
            with Store(tmp_path / "monitor.db") as store:
                summary = pipeline.run(
                    config, store, now=START + timedelta(days=run[0], hours=run[1]), site=False
                )
            assert not [f for f in summary.failures if f[0] != "digest"], summary.failures
            received[run] = mail.inbox.messages[before:]
            if run in MAIL_DOWN:
                assert received[run] == []
                mail.start()
    finally:
        mail.stop()

    with Store(tmp_path / "monitor.db") as store:
        changes = [c for c in store.changes(include_backfilled=False) if c.kind != "none"]
        found = {c.id: c for c in changes}
        page_of = {c.id: c.page_url for c in changes}
        search_of = {p.url: p.search for p in store.pages(active_only=False)}
    run_of = {
        c.id: next(r for r in RUNS if START + timedelta(days=r[0], hours=r[1]) == _utc(c.detected_at))
        for c in changes
    }
    url = {folder: page_server.base_url + page_path(folder) for folder in SHOWN}
    assert search_of == {url[ATTENDANCE]: None, url[SMHL]: None, url[SEND]: SEARCH}

    def theirs(address: str) -> dict[tuple[int, int], list[int]]:
        """The change ids each run brought to ``address``, each message's ids in the order sent."""
        got: dict[tuple[int, int], list[int]] = {}
        for run, messages in received.items():
            for message in messages:
                if message["To"] == address:
                    got.setdefault(run, []).extend(change_ids(message))
        return got

    def runs_of(folders: list[str]) -> dict[int, tuple[int, int]]:
        return {i: r for i, r in run_of.items() if page_of[i] in {url[f] for f in folders}}

    # Every message goes to one subscriber alone, and nothing is sent twice.
    every = [m for messages in received.values() for m in messages]
    assert {m["To"] for m in every} == {REPORTER, SENCO, HEAD}
    assert len({m["Message-ID"] for m in every}) == len(every)
    for address in (REPORTER, SENCO, HEAD):
        ids = [i for got in theirs(address).values() for i in got]
        assert Counter(ids).most_common(1)[0][1] == 1, address

    # The reporter: the attendance and mental health lead pages, in the run that found each change; the
    # mental health lead change found while the mail server was down goes at the next run.
    reporter = theirs(REPORTER)
    wanted = runs_of([ATTENDANCE, SMHL])
    assert {i for got in reporter.values() for i in got} == set(wanted)
    for i, run in wanted.items():
        sent_at = run if run not in MAIL_DOWN else RUNS[RUNS.index(run) + 1]
        assert i in reporter[sent_at], (i, run)
    assert set(reporter) == {(0, 7), (0, 13), (2, 13)}

    # The SENCO: the page their search found, at most one message a London day, at its first run with
    # the mail server up; the two changes of Tuesday afternoon and Wednesday morning go on Wednesday 13:00.
    senco = theirs(SENCO)
    wanted = runs_of([SEND])
    assert {i for got in senco.values() for i in got} == set(wanted)
    assert set(senco) == {(0, 7), (1, 7), (2, 13), (4, 7), (7, 13)}
    assert sorted(senco[(2, 13)]) == sorted(i for i, r in wanted.items() if r in {(1, 13), (2, 7)})
    assert sorted(senco[(7, 13)]) == [i for i, r in wanted.items() if r == (7, 13)]

    # The head teacher: everything, on Mondays; the second Monday's 07:00 run had the mail server down,
    # so the week's summary goes at 13:00, with that run's change too.
    head = theirs(HEAD)
    assert {i for got in head.values() for i in got} == set(found)
    assert set(head) == {(0, 7), (7, 13)}
    assert head[(0, 7)] and all(run_of[i] == (0, 7) for i in head[(0, 7)])
    [weekly] = [m for m in received[(7, 13)] if m["To"] == HEAD]
    text, html = parts(weekly)
    assert "changed since 30 November: " in weekly["Subject"], weekly["Subject"]
    # Grouped by page, the page changed last first, and each page's latest change (its state now) first.
    for body in (text, html):
        linked = [int(n) for n in re.findall(rf"{re.escape(SITE_URL)}/changes/(\d+)\.html", body)]
        linked = list(dict.fromkeys(linked))
        assert sorted(linked) == sorted(head[(7, 13)])
        pages_in_order = list(dict.fromkeys(page_of[i] for i in linked))
        assert pages_in_order == [url[SEND], url[SMHL], url[ATTENDANCE]]
        for page in pages_in_order:
            of_page = [i for i in linked if page_of[i] == page]
            assert of_page == sorted(of_page, key=lambda i: found[i].detected_at, reverse=True)


def _utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_a_subscriber_added_later_gets_the_changes_from_that_day_and_a_dry_run_shows_each_ones(
    tmp_path: Path, page_server
) -> None:
    mail = MailServer(free_port())
    mail.start()
    path = write_config(tmp_path, page_server.base_url, mail.port)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["searches"], head = [], raw["digest"]["subscribers"][2]
    raw["digest"]["subscribers"] = [raw["digest"]["subscribers"][0]]  # the reporter alone at first
    page_server.routes[page_path(SMHL)] = Response(body=capture(SMHL, "2022-07-11"))
    page_server.routes[page_path(ATTENDANCE)] = Response(body=capture(ATTENDANCE, "2022-05-06"))
    tuesday = START + timedelta(days=1, hours=7)

    def run(when: datetime, *, deliver: bool = True) -> list:
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        before = len(mail.inbox.messages)
        with Store(tmp_path / "monitor.db") as store:
            pipeline.run(load(path), store, now=when, site=False, deliver=deliver)
        return mail.inbox.messages[before:]

    try:
        [first] = run(START + timedelta(hours=7))
        assert first["To"] == REPORTER and len(change_ids(first)) == 2  # both pages now watched
        page_server.routes[page_path(ATTENDANCE)] = Response(body=capture(ATTENDANCE, "2022-08-04"))
        head["day"] = "tuesday"
        raw["digest"]["subscribers"].append(head)
        assert run(tuesday, deliver=False) == []
        with Store(tmp_path / "monitor.db") as store:
            [changed] = [c for c in store.changes(include_backfilled=False) if c.kind not in ("new", "none")]
            out = tmp_path / "preview"
            previews = deliver_pending(load(path), store, dry_run_dir=out, now=tuesday)
            assert len(previews) == 2 and all("1 change written to" in str(d) for d in previews)
            written = [p.read_bytes() for p in sorted(out.iterdir())]
            assert len(written) == 2 and all(
                f"X-Guidance-Monitor-Changes: {changed.id}\n".encode() in w for w in written
            )
            assert mail.inbox.messages[1:] == []  # a dry run sends nothing and marks nothing
            sent = deliver_pending(load(path), store, now=tuesday)
        messages = mail.inbox.messages[1:]
        assert run(tuesday + timedelta(hours=6)) == []
    finally:
        mail.stop()
    assert len(sent) == 2
    # The head teacher, added on Tuesday, gets Tuesday's change and none of Monday's.
    assert sorted((m["To"], change_ids(m)) for m in messages) == [
        (HEAD, [changed.id]),
        (REPORTER, [changed.id]),
    ]


def test_subscribers_need_a_mail_server() -> None:
    raw = {"digest": {"subscribers": [{"email": HEAD}]}}
    with pytest.raises(
        ConfigError, match=r"^digest\.email\.smtp_host: missing \(needed to send to digest\.subscribers\)$"
    ):
        from_mapping(raw)


@pytest.mark.parametrize(
    ("now", "start"),
    [
        ("2026-12-01T00:30:00+00:00", "2026-12-01T00:00:00Z"),  # GMT: London's day is UTC's
        ("2026-06-01T23:30:00+00:00", "2026-06-01T23:00:00Z"),  # BST: 00:30 on 2 June in London
    ],
)
def test_a_subscriber_counts_changes_from_the_start_of_their_london_day(now: str, start: str) -> None:
    assert london_day_start(datetime.fromisoformat(now)) == start
