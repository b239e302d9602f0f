"""The command line as people meet it: global options anywhere, progress, init and check, one spelling of
a page, standard input, any day's text, Datasette, and every mistake answered in one line.

``python tests/test_cli.py`` rewrites the README's command reference from ``--help``; a test fails when
the two drift apart.
"""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner
from run_support import write_config

from monitor import config as config_module
from monitor import parse as parse_module
from monitor.cli import main
from monitor.demo import PAGE_PATH, Capture, TimelineState, captures, redirects
from monitor.discover import read_results
from monitor.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SEND_2022 = (
    FIXTURES
    / "html_timeline"
    / ("government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings")
)
BUILT = FIXTURES / "html_built" / "publication-2025-gem-published-dates.html"
GLOBAL = {"--config", "--verbose", "--quiet", "--help"}


def cli(*args: str, input: bytes | str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def page_html(title: str, body: str = "Some text.", updated: str = "1 March 2024") -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><main id='doc'><h1>{title}</h1>"
        f"<p>Last updated: {updated}</p><h2>About</h2><p>{body}</p></main></body></html>"
    ).encode()


@pytest.fixture
def served(page_server, fixtures_dir):
    """Two real GOV.UK captures served on 127.0.0.1 at GOV.UK paths."""
    from conftest import Response

    first = sorted(SEND_2022.glob("*/*.html"))[0].read_bytes()
    page_server.routes["/a"] = Response(body=first, headers={"Content-Type": "text/html"})
    page_server.routes["/b"] = Response(body=first, headers={"Content-Type": "text/html"})
    return page_server


# --------------------------------------------------------------------------- global options


@pytest.mark.parametrize(
    "placement",
    [
        ["--config", "{config}", "run", "--no-deliver", "--no-site"],
        ["run", "--config", "{config}", "--no-deliver", "--no-site"],
        ["run", "--no-deliver", "--no-site", "--config", "{config}"],
    ],
    ids=["before", "after", "last"],
)
def test_config_before_or_after_the_command_is_the_same(tmp_path, served, placement):
    config = write_config(tmp_path, served.base_url, ["/a", "/b"])
    result = cli(*[a.replace("{config}", str(config)) for a in placement])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Checked 2 pages: 2 changed, 0 failed.\n"
    with Store(tmp_path / "monitor.db") as store:
        assert {p.url for p in store.pages()} == {served.url("/a"), served.url("/b")}


def test_verbose_logs_each_fetch_and_quiet_says_only_problems(tmp_path, served):
    config = write_config(tmp_path, served.base_url, ["/a", "/missing"])
    verbose = cli("-v", "run", "--config", str(config), "--no-deliver", "--no-site")
    assert verbose.exit_code == 1
    line = next(x for x in verbose.stderr.splitlines() if x.startswith(served.url("/a")))
    assert re.fullmatch(rf"{re.escape(served.url('/a'))}: HTTP 200, [\d,]+ bytes, \d+\.\d\d s", line)
    assert re.search(r"/missing: HTTP 404, .*; failed:", verbose.stderr)
    assert "\r" not in verbose.stderr, "no progress line without a terminal"
    fetch_log = logging.getLogger("monitor.fetch")
    assert fetch_log.handlers == [] and fetch_log.level == logging.NOTSET, "--verbose ends with its command"

    served.routes.pop("/missing", None)
    quiet_ok = cli("--quiet", "run", "--config", str(write_config(tmp_path, served.base_url, ["/a"])))
    assert quiet_ok.exit_code == 0 and quiet_ok.output == ""
    config = write_config(tmp_path, served.base_url, ["/a", "/gone"])
    quiet_bad = cli("run", "-q", "--config", str(config), "--no-deliver", "--no-site")
    assert quiet_bad.exit_code == 1
    assert "failed: " + served.url("/gone") in quiet_bad.stdout

    both = cli("-v", "run", "-q", "--config", str(config))
    assert both.exit_code == 2 and both.stderr == "guidance-monitor: --verbose and --quiet: choose one\n"


def test_run_on_a_terminal_shows_pages_done_of_total(tmp_path, served):
    config = write_config(tmp_path, served.base_url, ["/a", "/b", "/nowhere"])
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "--config", str(config), "--no-deliver", "--no-site"],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
        )
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    text = seen.decode()
    assert process.returncode == 1
    assert "Checking the watched pages" in text
    assert re.search(r"Checked 3 of 3 pages, 1 failed", text), text
    assert process.stdout.decode().startswith("Checked 3 pages: 2 changed, 1 failed.")


# --------------------------------------------------------------------------- init and check


def test_init_then_check_and_never_overwrite(tmp_path):
    folder = tmp_path / "new"
    result = cli("init", str(folder))
    assert result.exit_code == 0, result.output
    written = folder / "config.yaml"
    assert "check --online" in result.output and f"--config {written}" in result.output
    starter = config_module.load(written)
    shipped = config_module.load(ROOT / "config.yaml")
    assert [p.url for p in starter.pages] == [p.url for p in shipped.pages]
    text = written.read_text()
    assert "# digest:" in text and "# schedule:" in text and "#     smtp_host:" in text

    check = cli("--config", str(written), "check")
    assert check.exit_code == 0 and "valid. 2 pages to watch" in check.output
    assert not (folder / "data").exists(), "check stores nothing"

    written.write_text("# mine\n")
    again = cli("init", str(folder))
    assert again.exit_code == 2
    assert (
        again.stderr
        == f"guidance-monitor: {written} already exists: nothing written (edit it, or init another folder)\n"
    )
    assert written.read_text() == "# mine\n"


def test_check_names_the_key_of_each_broken_config(tmp_path):
    from test_config import BROKEN

    broken = [*BROKEN, ("digest:\n  email:\n    to: [a@b.c]\n", "digest.email.smtp_host: missing")]
    for text, message in broken:
        file = tmp_path / "config.yaml"
        file.write_text(text)
        result = cli("check", "--config", str(file))
        assert result.exit_code == 2, text
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_check_online_reads_each_page_once_and_stores_nothing(tmp_path, served):
    config = write_config(tmp_path, served.base_url, ["/a", "/nothing-here"])
    result = cli("check", "--online", "--config", str(config))
    assert result.exit_code == 1
    assert "Guidance for full opening: special schools and other specialist settings" in result.stdout
    assert re.search(r"last updated 2021-02-03, 16 updates, \d+ sections?, \d+ documents?", result.stdout)
    assert "cannot be read: HTTP 404" in result.stdout
    assert result.stderr == "guidance-monitor: 1 of 2 pages could not be read\n"
    assert sorted(r.path for r in served.requests) == ["/a", "/nothing-here"]
    assert not (tmp_path / "monitor.db").exists()


# --------------------------------------------------------------------------- one spelling of a page


def test_two_spellings_of_one_page_are_one_page(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("database: m.db\npages:\n  - /guidance/x/\n  - HTTPS://WWW.GOV.UK/guidance/x#top\n")
    for spelling in ["/x", "/x/", "HTTPS://WWW.GOV.UK/x", "/x?utm_source=y#f", "https://gov.uk/x"]:
        assert cli("add", spelling, "--config", str(config)).exit_code == 0
    listed = json.loads(cli("pages", "--format", "json", "--config", str(config)).output)
    assert [p["url"] for p in listed] == ["https://www.gov.uk/x", "https://www.gov.uk/guidance/x"]
    results, _ = read_results(
        json.dumps({"results": [{"link": "/Guidance/y/?utm_medium=email"}], "total": 1}).encode(),
        "https://www.gov.uk",
    )
    assert results[0].url == "https://www.gov.uk/Guidance/y"


def test_followed_documents_are_registered_under_their_one_spelling(tmp_path, page_server):
    from conftest import Response
    from run_support import SEND, SEND_ADDITIONAL, SEND_TESTING, capture, page_path

    body = capture(SEND, "2021-05-25")
    for folder, spelling in ((SEND_ADDITIONAL, "{}/?utm_source=email#part"), (SEND_TESTING, "{}/")):
        path = page_path(folder)
        shouted = page_server.url(spelling.format(path)).replace("http://", "HTTP://")
        body = body.replace(f'href="{path}"'.encode(), f'href="{shouted}"'.encode())
        page_server.routes[path] = Response(
            body=capture(folder, "2021-05-25" if folder == SEND_ADDITIONAL else "2022-02-23")
        )
    page_server.routes[page_path(SEND)] = Response(body=body)
    config = write_config(
        tmp_path, page_server.base_url, [{"url": page_path(SEND), "follow_documents": True}]
    )
    result = cli("run", "--config", str(config), "--no-deliver", "--no-site")
    assert result.output.startswith("Checked 3 pages: 3 changed, 0 failed."), result.output
    with Store(tmp_path / "monitor.db") as store:
        documents = sorted(p.url for p in store.pages() if p.source == "document")
    assert documents == sorted(page_server.url(page_path(f)) for f in (SEND_ADDITIONAL, SEND_TESTING))


def test_add_outside_govuk_needs_a_selector_and_uses_it(tmp_path, page_server):
    from conftest import Response

    page_server.routes["/p"] = Response(body=page_html("Trust SEND policy"))
    config = tmp_path / "config.yaml"
    config.write_text("database: m.db\nsite_dir: site\nfetch:\n  retries: 1\n  timeout: 5\n")
    refused = cli("add", "https://example.com/p", "--config", str(config))
    assert refused.exit_code == 2
    assert refused.stderr == (
        "guidance-monitor: https://example.com/p: not a GOV.UK page: give --selector CSS, "
        "the element that holds its text\n"
    )
    assert cli("add", page_server.url("/p"), "--selector", "main#doc", "--config", str(config)).exit_code == 0
    run = cli("run", "--config", str(config), "--no-site")
    assert run.exit_code == 0, run.output
    listed = json.loads(cli("pages", "--format", "json", "--config", str(config)).output)
    assert listed[0]["title"] == "Trust SEND policy"


def test_parse_and_diff_read_standard_input():
    body = BUILT.read_bytes()
    assert cli("parse", "-", input=body).output == cli("parse", str(BUILT)).output
    old, new = sorted(SEND_2022.glob("*/*.html"))[-2:]
    piped = cli("diff", "-", str(new), "--format", "json", input=old.read_bytes())
    assert piped.exit_code == 1 and piped.output == cli("diff", str(old), str(new), "--format", "json").output


# --------------------------------------------------------------------------- any day's text


@pytest.fixture
def demo(demo_run) -> Path:
    """A database built by replaying the demo's real captures of a publication, one a simulated day."""
    return demo_run.out


def stored_url(demo: Path) -> str:
    return config_module.load(demo / "config.yaml").govuk_base_url + PAGE_PATH


def served_on(capture: Capture) -> Path:
    """The publication page's file as the demo served it on that capture's day."""
    return TimelineState.on(capture, captures(), redirects()).files[PAGE_PATH]


def uk_day(capture: Capture) -> str:
    return capture.label[:10]


def test_show_url_at_a_date_prints_the_text_stored_that_day(demo):
    url = stored_url(demo)
    timeline = captures()
    for capture in timeline:
        expected = parse_module.to_text(parse_module.parse(served_on(capture).read_bytes(), url))
        result = cli("--config", str(demo / "config.yaml"), "show", PAGE_PATH, "--at", uk_day(capture))
        assert result.exit_code == 0, result.output
        assert result.stdout == expected, uk_day(capture)
        assert f"as stored on {uk_day(capture)}: version #" in result.stderr
    second = timeline[1]
    as_json = cli(
        "show", url, "--at", uk_day(second), "--format", "json", "--config", str(demo / "config.yaml")
    )
    stored = json.loads(as_json.stdout)
    assert stored["last_updated"] == parse_module.parse(served_on(second).read_bytes(), url).last_updated
    early = cli("show", url, "--at", "2020-01-01", "--config", str(demo / "config.yaml"))
    assert early.exit_code == 2 and f"the first version is of {timeline[0].label}" in early.stderr


def test_diff_url_from_to_equals_diff_of_the_two_stored_bodies(demo):
    url = stored_url(demo)
    first, last = captures()[0], captures()[-1]
    for output in ("json", "text"):
        stored = cli(
            "diff", PAGE_PATH, "--from", uk_day(first), "--to", "2021-12-31", "--format", output,
            "--config", str(demo / "config.yaml"),
        )  # fmt: skip
        saved = cli("diff", str(served_on(first)), str(served_on(last)), "--url", url, "--format", output)
        assert stored.exit_code == saved.exit_code == 1
        assert stored.stdout == saved.stdout


def test_history_and_show_speak_the_sites_words_and_uk_time(demo):
    config = str(demo / "config.yaml")
    history = cli("history", PAGE_PATH, "--config", config).output
    announced = captures()[1]
    note = parse_module.parse(served_on(announced).read_bytes(), stored_url(demo)).change_history[0].note
    assert f"Updated with a change note: {note}" in history
    assert announced.label in history
    assert not re.search(r"announced|modified|\bmajor\b|\bminor\b", history)
    newest = re.search(r"#(\d+)  [^(]+  \([^)]+\)  Updated with a change note: ", history)
    assert newest, history
    shown = cli("show", newest.group(1), "--config", config).output
    assert shown.startswith(f"Change #{newest.group(1)}: Updated with a change note\n")
    assert re.search(r"\(found \d{4}-\d\d-\d\d \d\d:\d\d (GMT|BST)\)", shown)
    assert not re.search(
        r"GOV\.UK announced this change|^\s*modified\b", shown, re.M
    )  # the page may say either


def test_the_demo_prints_uk_time_labelled(demo_run):
    days = [line for line in demo_run.stdout.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", line)]
    assert len(days) == len(captures()) and all(re.match(r"\S+ \S+ (GMT|BST) ", d) for d in days), days
    assert [d[:20] for d in days] == [c.label[:20] for c in captures()]
    assert any(" BST " in d for d in days) and any(" GMT " in d for d in days)
    assert f"--config {demo_run.out / 'config.yaml'} history {PAGE_PATH}" in demo_run.stdout


# --------------------------------------------------------------------------- Datasette


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_explore_serves_the_database_read_only_with_canned_queries(demo):
    pytest.importorskip("datasette")
    port = free_port()
    database = demo / "monitor.db"
    before = database.read_bytes()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "explore",
            "--config",
            str(demo / "config.yaml"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/-/versions.json", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "datasette did not start"
                time.sleep(0.2)
        params = {"url": stored_url(demo), "date": "2021-06-01", "_shape": "array"}
        rows = httpx.get(base + "/monitor/page-on-a-date.json", params=params, timeout=10).json()
        with Store(database) as store:
            (row, document) = store.snapshot_before(stored_url(demo), "2021-06-02T00:00:00+00:00")
        assert [r["heading"] for r in rows] == [s.heading for s in document.sections]
        assert rows[0]["snapshot"] == row["id"] and rows[0]["text"] == document.sections[0].text
        silent = httpx.get(base + "/monitor/silent-edits.json?_shape=array", timeout=10)
        assert silent.status_code == 200 and isinstance(silent.json(), list)
        tables = httpx.get(base + "/-/metadata.json", timeout=10).json()["databases"]["monitor"]["tables"]
        assert tables["changes"]["columns"]["kind"].startswith("major (updated with a change note)")
        write = httpx.post(base + "/monitor/-/query", data={"sql": "DELETE FROM changes"}, timeout=10)
        assert write.status_code >= 400
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert database.read_bytes() == before


def test_explore_on_a_port_in_use_says_so_in_one_line(demo):
    pytest.importorskip("datasette")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = cli("explore", "--port", str(port), "--config", str(demo / "config.yaml"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"guidance-monitor: --host 127.0.0.1 --port {port}: cannot listen")
    assert result.stderr.count("\n") == 1


# --------------------------------------------------------------------------- bad input, one line each


@pytest.fixture
def bad(tmp_path, demo):
    """A folder with a copy of the demo database and config, a plain file and a read-only folder."""
    folder = tmp_path / "w"
    folder.mkdir()
    for name in ("monitor.db", "config.yaml"):
        shutil.copy(demo / name, folder / name)
    text = (folder / "config.yaml").read_text().replace(str(demo), str(folder))
    (folder / "config.yaml").write_text(text)
    (folder / "latin1.yaml").write_bytes("# café\ndatabase: x.db\n".encode("latin-1"))
    (folder / "nohost.yaml").write_text("database: x.db\ndigest:\n  email:\n    to: [a@b.c]\n")
    (folder / "nodb.yaml").write_text("database: none.db\n")
    (folder / "file").write_text("a file\n")
    (folder / "ro").mkdir()
    (folder / "ro").chmod(0o555)
    (folder / "empty").mkdir()
    yield folder
    (folder / "ro").chmod(0o755)


C = ["--config", "{w}/config.yaml"]
BAD_INPUT = [
    # (command args, standard input, exit status, the one line (stderr, or stdout when status is 0))
    (
        ["--config", "{w}/latin1.yaml", "run"],
        None,
        2,
        "latin1.yaml: not UTF-8 text (line 1); save it as UTF-8",
    ),
    (["digest", "--config", "{w}/nohost.yaml"], None, 2, "digest.email.smtp_host: missing"),
    ([*C, "digest", "--dry-run", "--out", "{w}/file"], None, 2, "--out {w}/file: is a file, not a folder"),
    (
        [*C, "digest", "--dry-run", "--out", "{w}/ro/x"],
        None,
        1,
        "--out {w}/ro/x: cannot be written (Permission denied)",
    ),
    (
        [*C, "digest", "--dry-run", "--out", "{w}/file/x"],
        None,
        1,
        "--out {w}/file/x: cannot be written (Not a directory)",
    ),
    (
        [*C, "digest", "--since", "2021-01-01", "--out", "{w}/file"],
        None,
        2,
        "--out {w}/file: is a file, not a folder",
    ),
    (
        [*C, "digest", "--since", "2021-01-01", "--out", "{w}/ro/x"],
        None,
        1,
        "cannot be written (Permission denied)",
    ),
    (
        [*C, "digest", "--since", "2031-01-01", "--out", "{w}/empty"],
        None,
        0,
        "No change found since 2031-01-01: no digest written.",
    ),
    ([*C, "digest", "--since", "1 May"], None, 2, "--since: not a date in the form YYYY-MM-DD: '1 May'"),
    (["demo", "--out", "{w}/file"], None, 2, "--out {w}/file: is a file, not a folder"),
    (["demo", "--out", "{w}/ro/demo"], None, 1, "demo: {w}/ro/demo: cannot be written (Permission denied)"),
    (
        [*C, "add", "https://example.com/p"],
        None,
        2,
        "https://example.com/p: not a GOV.UK page: give --selector CSS",
    ),
    (
        [*C, "add", "https://example.com/p", "--selector", "main["],
        None,
        2,
        "--selector 'main[': not a CSS selector",
    ),
    ([*C, "add", "ftp://x"], None, 2, "ftp://x: not a GOV.UK path such as /guidance/x or an http(s) address"),
    ([*C, "show", "seven"], None, 2, "seven: give a change number, or a page's URL with --at YYYY-MM-DD"),
    ([*C, "show", "99"], None, 2, "no change #99"),
    ([*C, "show", "7", "--at", "2021-06-01"], None, 2, "--at goes with a page's URL"),
    ([*C, "show", PAGE_PATH, "--at", "June"], None, 2, "--at: not a date in the form YYYY-MM-DD: 'June'"),
    ([*C, "show", "/guidance/unknown", "--at", "2021-06-01"], None, 2, "not a watched page"),
    (
        [*C, "diff", PAGE_PATH, "--from", "2021-06-01"],
        None,
        2,
        "give both --from YYYY-MM-DD and --to YYYY-MM-DD",
    ),
    ([*C, "diff", "{w}/file"], None, 2, "give two saved pages (OLD NEW), or a URL with --from and --to"),
    (["diff", "-", "-"], b"", 2, "only one of OLD and NEW can be standard input (-)"),
    (["parse", "-"], b"", 1, "standard input: cannot be parsed (the page is empty)"),
    (
        ["diff", "{w}/missing.html", "{w}/file"],
        None,
        2,
        "{w}/missing.html: cannot be read (No such file or directory)",
    ),
    (["-v", "-q", "pages"], None, 2, "--verbose and --quiet: choose one"),
    (["init", "{w}/file"], None, 2, "DIR {w}/file: is a file, not a folder"),
    (["history", "/x", "--config", "{w}/nodb.yaml"], None, 2, "no database yet at {w}/none.db"),
    (["show", "/x", "--at", "2024-01-01", "--config", "{w}/nodb.yaml"], None, 2, "no database yet at"),
]


@pytest.mark.parametrize(
    ("args", "stdin", "status", "line"), BAD_INPUT, ids=[" ".join(r[0]) for r in BAD_INPUT]
)
def test_bad_input_is_one_line_and_an_exit_status(bad, args, stdin, status, line):
    if "/ro/" in " ".join(args) and os.access(bad / "ro", os.W_OK):
        pytest.skip("running as root: a read-only folder is writable (the file/x rows cover the same path)")
    args = [a.replace("{w}", str(bad)) for a in args]
    line = line.replace("{w}", str(bad))
    result = subprocess.run(
        [sys.executable, "-m", "monitor", *args], input=stdin, capture_output=True, timeout=60, cwd=bad
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert "Traceback" not in out + err
    assert result.returncode == status, out + err
    said = out if status == 0 else err
    assert said.count("\n") == 1 and line in said, said
    if status == 0:
        assert list((bad / "empty").iterdir()) == []


# --------------------------------------------------------------------------- rough edges


def test_parse_of_a_file_stating_no_address_does_not_claim_govuk(tmp_path):
    file = tmp_path / "page.html"
    file.write_bytes(BUILT.read_bytes())
    text = cli("parse", str(file), "--format", "text").output
    assert "URL: https://www.gov.uk/\n" not in text
    assert "URL: not stated in the page (give --url)\n" in text
    assert json.loads(cli("parse", str(file), "--format", "json").output)["url"] is None
    given = cli("parse", str(file), "--format", "json", "--url", "https://www.gov.uk/guidance/x").output
    assert json.loads(given)["url"] == "https://www.gov.uk/guidance/x"


def test_diff_of_two_different_pages_warns_on_stderr(tmp_path):
    old, new = tmp_path / "old.html", tmp_path / "new.html"
    old.write_bytes(page_html("Mandatory qualification for SENCOs", updated="5 July 2024"))
    new.write_bytes(page_html("School attendance guidance", updated="1 March 2021"))
    result = cli("diff", str(old), str(new), "--selector", "main")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"guidance-monitor: warning: {old} and {new} look like two different pages"
    )
    assert '"Last updated" goes back from 2024-07-05 to 2021-03-01' in result.stderr
    a, b = sorted(SEND_2022.glob("*/*.html"))[-2:]
    assert cli("diff", str(a), str(b)).stderr == ""


def test_serve_help_does_not_mention_the_hidden_every():
    assert "every" not in cli("serve", "--help").output.lower()


def test_gitignore_covers_the_run_lock():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/monitor.db.lock"], cwd=ROOT)
    assert ignored.returncode == 0


# --------------------------------------------------------------------------- the README's reference


START, END = "<!-- commands: generated from --help by `python tests/test_cli.py` -->", "<!-- commands end -->"


def usage(name: str, command: click.Command) -> str:
    parts = [f"guidance-monitor {name}"]
    for param in command.params:
        if isinstance(param, click.Argument):
            metavar = param.metavar or param.name.upper()
            parts.append(metavar if param.required or metavar.startswith("[") else f"[{metavar}]")
        elif isinstance(param, click.Option) and not param.hidden and param.opts[-1] not in GLOBAL:
            flag = max(param.opts, key=len)
            if param.is_flag:
                parts.append(f"[{flag}]")
            else:
                value = (
                    "|".join(param.type.choices) if isinstance(param.type, click.Choice) else param.metavar
                )
                parts.append(f"[{flag} {value or param.type.name.upper()}]")
    return " ".join(parts)


def reference() -> str:
    rows = ["| command | what it does |", "| --- | --- |"]
    for name, command in sorted(main.commands.items()):
        text = " ".join((command.help or "").split()).replace("|", "\\|")
        line = usage(name, command).replace("|", "\\|")
        rows.append(f"| `{line}` | {text} |")
    return "\n".join([START, *rows, END])


def test_readme_command_reference_matches_help():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    block = readme[readme.index(START) : readme.index(END) + len(END)]
    assert block == reference(), "the README's command reference is stale: run `python tests/test_cli.py`"
    for name in main.commands:
        assert f"`guidance-monitor {name}" in block


if __name__ == "__main__":
    path = ROOT / "README.md"
    readme = path.read_text(encoding="utf-8")
    block = readme[readme.index(START) : readme.index(END) + len(END)]
    path.write_text(readme.replace(block, reference()), encoding="utf-8")
    print(f"rewrote the command reference in {path}")
