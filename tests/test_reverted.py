"""A page that goes back to an earlier version, end to end: real captures served in turn from 127.0.0.1,
``guidance-monitor run`` on a real SQLite file. A return that stays is told once, as ``reverted``; a page
that alternates at every check is told once, as ``flapping``."""

from __future__ import annotations

import json
import time
from email import message_from_string, policy
from pathlib import Path

from click.testing import CliRunner
from conftest import PageServer, Response
from run_support import SMHL, capture, open_store, page_path, write_config

from monitor.cli import main
from monitor.model import Change, ChangeSet, SectionChange, Signal, SignalKind
from monitor.render.digests import digest
from monitor.render.summaries import change_summary
from monitor.settings import Subscriber
from monitor.subscriptions import matches

JULY = capture(SMHL, "2022-07-11")  # "Last updated 11 July 2022"
AUGUST = capture(SMHL, "2022-08-18")  # "Last updated 18 August 2022": the version readers are told about
VERSIONS = {"A": JULY, "B": AUGUST}
PATH = page_path(SMHL)


def cli(config: Path, *args: str):
    result = CliRunner().invoke(main, [*args, "--config", str(config)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def reported_by_run(
    tmp_path: Path, server: PageServer, answers: list[Response], *, apart: bool = False
) -> list[str]:
    """Serve ``answers`` one a run; what each run recorded ("-" for nothing), after each run exits 0.
    ``apart``: each run in a second of its own, as real runs are, for the site and feeds, which tell a
    page's changes found at the same time as one update."""
    server.routes[PATH] = list(answers)  # the server takes them off its own list
    config = write_config(tmp_path, server.base_url, [PATH])
    url = server.url(PATH)
    reported, known = [], set()
    for n, _ in enumerate(answers):
        if apart and n:
            time.sleep(1)
        result = cli(config, "run", "--no-deliver", "--no-site")
        assert result.exit_code == 0, result.output
        with open_store(tmp_path) as store:
            found = store.changes(page_url=url, include_backfilled=False)
        reported.append(",".join(c.kind for c in found if c.id not in known) or "-")
        known |= {c.id for c in found}
    return reported


def test_a_page_that_goes_back_and_stays_is_told_once_against_the_version_readers_were_told_about(
    tmp_path, page_server
):
    """The real case: "Last updated" back from 18 August to 11 July 2022, the August history gone."""
    seen = "ABAAA"
    reported = reported_by_run(tmp_path, page_server, [Response(body=VERSIONS[v]) for v in seen], apart=True)
    assert reported == ["new", "major", "-", "reverted", "-"]
    url = page_server.url(PATH)
    with open_store(tmp_path) as store:
        [reverted] = [c for c in store.changes(page_url=url) if c.kind == "reverted"]
        hashes = {s["id"]: s["document_hash"] for s in store.snapshots(url)}
        page = store.page(url)
        assert page is not None and page.returned_from is None
        assert [c.kind for c in store.undelivered("email")] == ["new", "major", "reverted"]
    assert reverted.note == "GOV.UK went back to the version of 11 July 2022"
    july, august = sorted(set(hashes.values()), key=list(hashes.values()).index)
    assert (hashes[reverted.old_snapshot_id], hashes[reverted.new_snapshot_id]) == (august, july)
    changeset = reverted.changeset
    assert changeset is not None and changeset.old.last_updated > changeset.new.last_updated
    assert changeset.old.history_count - changeset.new.history_count == 3  # the history since 11 July gone

    config = tmp_path / "config.yaml"
    history = json.loads(cli(config, "history", url, "--format", "json").output)
    assert [c["kind"] for c in history["changes"] if not c["backfilled"]] == ["reverted", "major", "new"]
    site = cli(config, "site")
    assert site.exit_code == 0, site.output
    kind_page = (tmp_path / "site" / "kind" / "reverted.html").read_text(encoding="utf-8")
    assert "Went back to an earlier version" in kind_page
    change_page = (tmp_path / "site" / "changes" / f"{reverted.id}.html").read_text(encoding="utf-8")
    assert "GOV.UK went back to the version of 11 July 2022" in change_page
    feed = (tmp_path / "site" / "feed.xml").read_text(encoding="utf-8")
    entry = feed.split(f":change/{reverted.id}</id>", 1)[1].split("</entry>")[0]
    assert "Went back to an earlier version" in entry and "went back to the version of 11 July 2022" in entry

    rebuilt = cli(config, "digest", "--since", "2020-01-01")
    assert rebuilt.exit_code == 0, rebuilt.output
    email = message_from_string(rebuilt.output, policy=policy.default)
    [text] = [p.get_content() for p in email.walk() if p.get_content_type() == "text/plain"]
    assert "GOV.UK went back to the version of 11 July 2022" in text
    subject, text, html = digest([reverted], [page], since=None)  # the digest of the run that found it
    assert "Went back to an earlier version" in text and "Went back to an earlier version" in html
    assert "GOV.UK went back to the version of 11 July 2022" in text
    assert change_summary(reverted)["kind"] == "reverted"


def test_a_return_confirmed_by_a_304_is_told_too(tmp_path, page_server):
    """The check after the return is judged even when the page answers "not modified"."""
    tagged = [Response(body=body, headers={"ETag": f'"{n}"'}) for n, body in enumerate([JULY, AUGUST, JULY])]
    answers = [*tagged, Response(status=304, headers={"ETag": '"2"'})]
    assert reported_by_run(tmp_path, page_server, answers) == ["new", "major", "-", "reverted"]


def test_a_page_alternating_at_every_check_is_flapping_once_and_never_reverted(tmp_path, page_server):
    seen = "ABABA"
    reported = reported_by_run(tmp_path, page_server, [Response(body=VERSIONS[v]) for v in seen])
    assert reported == ["new", "major", "-", "flapping", "-"]
    with open_store(tmp_path) as store:
        assert store.page(page_server.url(PATH)).returned_from is None


def test_a_subscriber_who_asked_for_signals_gets_a_reverted_change_as_any_change_by_its_signals():
    def reverted(*kinds: SignalKind) -> Change:
        section = SectionChange(
            "Who it is for", "modified", signals=[Signal(k, "must", "should") for k in kinds]
        )
        changeset = ChangeSet(kind="minor", sections=[section])
        return Change("https://www.gov.uk/x", "reverted", "2026-11-30T07:00:00Z", "X", changeset)

    duties = Subscriber(("senco@school.example",), signals=("duty",))
    assert matches(duties, reverted("duty")) and not matches(duties, reverted("date"))
    assert matches(Subscriber(("head@school.example",)), reverted())
