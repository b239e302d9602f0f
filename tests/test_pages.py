"""The watch list commands: ``pages``, ``add`` and ``remove`` edit the database, never config.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from run_support import record

from monitor.cli import main
from monitor.model import FetchResult
from monitor.store import Store

CONFIG = """\
# Pages for the SENCO team: keep this list short, ask Sam before adding.
database: monitor.db   # next to this file
govuk_base_url: https://www.gov.uk
pages:
  # the statutory one
  - url: /government/publications/mandatory-qualification-for-sencos
    name: SENCO qualification
"""
SENCO = "https://www.gov.uk/government/publications/mandatory-qualification-for-sencos"
NEW = "https://www.gov.uk/guidance/send-code-of-practice"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def cli(config_file: Path, *args: str):
    return CliRunner().invoke(main, [*args[:1], "--config", str(config_file), *args[1:]])


def listed(config_file: Path, *extra: str) -> dict[str, dict]:
    result = cli(config_file, "pages", "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return {p["url"]: p for p in json.loads(result.output)}


def test_pages_lists_configured_pages_before_the_first_run(config_file):
    pages = listed(config_file)
    assert list(pages) == [SENCO]
    assert pages[SENCO]["source"] == "config" and pages[SENCO]["last_checked"] is None
    assert not (config_file.parent / "monitor.db").exists()
    text = cli(config_file, "pages").output
    assert "SENCO qualification [config]" in text and "last check never" in text


def test_add_and_remove_leave_config_yaml_as_it_was(config_file):
    before = config_file.read_bytes()
    added = cli(config_file, "add", "/guidance/send-code-of-practice")
    assert added.exit_code == 0 and added.output == f"{NEW} added: it is checked on the next run\n"
    assert listed(config_file)[NEW]["source"] == "cli"
    again = cli(config_file, "add", NEW)
    assert again.exit_code == 0 and "already watched" in again.output

    removed = cli(config_file, "remove", NEW)
    assert removed.exit_code == 0 and "removed from the watch list" in removed.output
    assert NEW not in listed(config_file)
    assert listed(config_file, "--all")[NEW]["active"] is False
    back = cli(config_file, "add", NEW)
    assert "watched again" in back.output and listed(config_file)[NEW]["active"] is True
    assert config_file.read_bytes() == before


def test_removing_a_configured_page_says_where_it_is_listed(config_file):
    before = config_file.read_bytes()
    result = cli(config_file, "remove", SENCO)
    assert result.exit_code == 0
    assert "no longer watched" in result.output and str(config_file) in result.output
    assert listed(config_file, "--all")[SENCO]["active"] is False
    assert config_file.read_bytes() == before
    assert SENCO not in listed(config_file), "a removed page stays removed although config.yaml lists it"
    back = cli(config_file, "add", SENCO)
    assert back.exit_code == 0 and listed(config_file)[SENCO]["active"] is True


@pytest.mark.parametrize(
    "args,message",
    [
        (("remove", "/guidance/never-watched"), "not watched"),
        (("add", "ftp://example.org/file"), "not a GOV.UK path"),
        (("add", "guidance/no-slash"), "not a GOV.UK path"),
    ],
)
def test_bad_addresses_are_one_line_and_status_2(config_file, args, message):
    result = cli(config_file, *args)
    assert result.exit_code == 2
    assert result.output.startswith("guidance-monitor: ") and message in result.output
    assert result.output.count("\n") == 1


def test_pages_shows_the_state_of_each_page(config_file):
    cli(config_file, "add", NEW, "--follow-documents")
    with Store(config_file.parent / "monitor.db") as store:
        failed = FetchResult(
            NEW, NEW, status=503, error="HTTP 503 after 3 tries", fetched_at="2026-07-01T06:00:04Z"
        )
        record(store, NEW, failed, None, None, [])
        record(store, NEW, failed, None, None, [])
        assert store.follow_documents(NEW) is True
    page = listed(config_file)[NEW]
    assert page["consecutive_failures"] == 2 and page["last_error"] == "HTTP 503 after 3 tries"
    text = cli(config_file, "pages").output
    assert "last check 2026-07-01 07:00 BST; last change never; 2 failures in a row" in text
    assert "last error: HTTP 503 after 3 tries" in text
    assert text.endswith("2 pages\n")


def test_run_check_and_pages_read_the_same_pages(tmp_path, page_server):
    """One rule decides which pages are read: a configured page stopped with ``remove`` is neither run
    nor checked nor listed, and a page added since is all three."""
    from conftest import Response
    from run_support import SMHL, capture, write_config

    body = capture(SMHL, "2022-07-11")
    for path in ("/guidance/a", "/guidance/b", "/guidance/c"):
        page_server.routes[path] = Response(body=body)
    config = write_config(tmp_path, page_server.base_url, ["/guidance/a", "/guidance/b"])
    assert cli(config, "run", "--no-deliver", "--no-site").exit_code == 0
    assert cli(config, "remove", "/guidance/a").exit_code == 0
    assert cli(config, "add", "/guidance/c").exit_code == 0
    watched = [page_server.url("/guidance/b"), page_server.url("/guidance/c")]

    assert list(listed(config)) == watched
    check = cli(config, "check")
    assert check.exit_code == 0 and "valid. 2 pages to watch." in check.output
    page_server.requests.clear()
    online = cli(config, "check", "--online")
    assert online.exit_code == 0, online.output
    assert sorted(r.path for r in page_server.requests) == ["/guidance/b", "/guidance/c"]
    assert [line for line in online.output.splitlines() if line.startswith("http")] == watched
    page_server.requests.clear()
    run = cli(config, "run", "--no-deliver", "--no-site")
    assert run.output.startswith("Checked 2 pages: "), run.output
    assert sorted(r.path for r in page_server.requests) == ["/guidance/b", "/guidance/c"]
