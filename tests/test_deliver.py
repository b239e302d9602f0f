"""Delivery through real servers on 127.0.0.1: an aiosmtpd SMTP server and an HTTP webhook receiver.

The runs go through ``guidance-monitor run`` against a real page server replaying real DfE captures, so
the outbox is tested with the real store and pipeline: one email per run with changes, none when nothing
is new, and a digest held while the mail server is down goes out once when it is back.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import lxml.html
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from run_support import record

from monitor import deliver
from monitor.cli import main
from monitor.config import load
from monitor.model import Change, FetchResult
from monitor.store import Store

TIMELINE = (
    Path(__file__).parent
    / "fixtures"
    / "html_timeline"
    / "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
)
PAGE = "/government/publications/guidance-for-full-opening-special-schools-and-other-specialist-settings"
CAPTURES = [
    next(folder.glob("*.html")).read_bytes() for folder in sorted(TIMELINE.iterdir()) if folder.is_dir()
]
TITLE = "Special schools and other specialist settings: coronavirus (COVID-19)"
SITE_URL = "https://changes.example.org/send"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- a real SMTP server


@dataclass
class Inbox:
    """What the SMTP server received, parsed as the reader's mail program would."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append(auth_data.login.decode())
        return AuthResult(success=auth_data.password == b"s3cret")


class MailServer:
    def __init__(self, port: int, **tls: object) -> None:
        self.port = port
        self.inbox = Inbox()
        self.tls = tls
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.tls)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def shown(html: str) -> str:
    """The words a reader sees in an HTML part."""
    return " ".join(lxml.html.fromstring(html).text_content().split())


# --------------------------------------------------------------------------- a watched page and its runs


class Monitor:
    """A configuration watching the SEND page on the test page server, and its runs."""

    def __init__(self, tmp: Path, page_server, digest: dict) -> None:
        self.tmp = tmp
        self.server = page_server
        self.config_file = tmp / "config.yaml"
        self.config_file.write_text(
            yaml.safe_dump(
                {
                    "database": "monitor.db",
                    "site_dir": "site",
                    "govuk_base_url": page_server.base_url,
                    "pages": [PAGE],
                    "fetch": {"rate_per_host": 100, "retries": 1, "timeout": 5, "source": "html"},
                    "digest": {"site_url": SITE_URL, **digest},
                }
            )
        )
        self.show(0)

    def show(self, capture: int) -> None:
        from conftest import Response

        self.server.routes[PAGE] = Response(body=CAPTURES[capture])

    def cli(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, [*args, "--config", str(self.config_file)])
        return result.exit_code, result.output

    def run(self) -> tuple[int, str]:
        return self.cli("run")

    def store(self) -> Store:
        return Store(self.tmp / "monitor.db")


def email_settings(port: int, **extra: object) -> dict:
    return {
        "email": {
            "to": ["senco@school.example", "head@school.example"],
            "from": "monitor@school.example",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "starttls": False,
            **extra,
        }
    }


def test_each_change_is_emailed_once_and_a_digest_held_while_smtp_is_down_goes_out_once(
    tmp_path: Path, page_server, mail: MailServer
) -> None:
    monitor = Monitor(tmp_path, page_server, email_settings(mail.port))

    status, output = monitor.run()
    assert status == 0, output
    assert len(mail.inbox.messages) == 1
    first = mail.inbox.messages[0]
    assert first["Subject"] == "Now watching 1 DfE guidance page"
    assert first["To"] == "senco@school.example, head@school.example"

    monitor.show(1)
    status, output = monitor.run()
    assert status == 0, output
    assert len(mail.inbox.messages) == 2
    digest = mail.inbox.messages[1]
    assert digest["Subject"].startswith("“") and "” updated: " in digest["Subject"]  # one page: named
    text, html = parts(digest)
    with monitor.store() as store:
        changes = [c for c in store.changes(include_backfilled=False) if c.kind == "major"]
    assert len(changes) == 1
    change = changes[0]
    for body in (" ".join(text.split()), shown(html)):
        assert TITLE in body
        assert change.changeset.history_added[0].note.split(".")[0] in body
        for attachment in change.changeset.attachments:
            assert attachment.title.split(":")[0] in body
    for body in (text, html):
        assert f"{SITE_URL}/changes/{change.id}.html" in body
    assert "<ins style=" in html or "<del style=" in html
    assert digest["X-Guidance-Monitor-Changes"] == str(change.id)

    status, output = monitor.run()  # nothing new
    assert status == 0, output
    assert len(mail.inbox.messages) == 2

    mail.stop()
    monitor.show(2)
    status, output = monitor.run()
    assert status == 1, output  # a cron wrapper can tell: the change waits for the next run
    assert "failed: digest: email:127.0.0.1: 1 change not sent (" in output
    with monitor.store() as store:
        held = store.undelivered("email")
    assert [c.kind for c in held] == ["major"]

    mail.start()
    status, output = monitor.run()  # no new change: the held digest goes out
    assert status == 0, output
    assert len(mail.inbox.messages) == 3
    text, html = parts(mail.inbox.messages[2])
    assert held[0].changeset.history_added[0].note.split(".")[0] in text
    assert mail.inbox.messages[2]["X-Guidance-Monitor-Changes"] == str(held[0].id)

    status, output = monitor.run()
    assert status == 0, output
    assert len(mail.inbox.messages) == 3
    with monitor.store() as store:
        assert store.undelivered("email") == []
        assert (tmp_path / "site" / "changes" / f"{held[0].id}.html").is_file()


def test_digest_dry_run_writes_the_eml_and_sends_nothing(
    tmp_path: Path, page_server, mail: MailServer
) -> None:
    monitor = Monitor(tmp_path, page_server, email_settings(mail.port))
    assert monitor.cli("run", "--no-deliver")[0] == 0
    monitor.show(1)
    assert monitor.cli("run", "--no-deliver")[0] == 0

    status, output = monitor.cli("digest", "--dry-run", "--out", str(tmp_path / "out"))
    assert status == 0, output
    [eml] = (tmp_path / "out").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text, html = parts(message)
    assert TITLE in text and TITLE in html
    assert mail.inbox.messages == []

    status, output = monitor.cli("digest")
    assert status == 0, output
    assert len(mail.inbox.messages) == 1  # the dry run marked nothing
    assert monitor.cli("digest") == (0, "Nothing to send.\n")
    assert len(mail.inbox.messages) == 1


def test_digest_since_rebuilds_a_period_without_sending_unless_asked(
    tmp_path: Path, page_server, mail: MailServer
) -> None:
    monitor = Monitor(tmp_path, page_server, email_settings(mail.port))
    assert monitor.run()[0] == 0
    monitor.show(1)
    assert monitor.run()[0] == 0
    sent = len(mail.inbox.messages)

    status, output = monitor.cli("digest", "--since", "2000-01-01", "--out", str(tmp_path / "again"))
    assert status == 0, output
    [eml] = (tmp_path / "again").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"].startswith("“") and "” updated: " in message["Subject"]  # one page: named
    assert len(mail.inbox.messages) == sent

    status, output = monitor.cli("digest", "--since", "2000-01-01")
    assert status == 0 and "Subject: " in output and "updated:" in output
    status, output = monitor.cli("digest", "--since", "2000-01-01", "--send")
    assert status == 0, output
    assert len(mail.inbox.messages) == sent + 1
    assert monitor.cli("digest", "--since", "1 Jan")[0] == 2


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login_from_the_environment(tmp_path: Path, monkeypatch, mode: str) -> None:
    cert, key = make_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # aiosmtpd cannot tell that an implicit-TLS session is encrypted, so it is told not to insist.
    tls = (
        {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
        if mode == "starttls"
        else {"ssl_context": context, "auth_require_tls": False}
    )
    server = MailServer(free_port(), authenticator=None, **tls)
    server.tls["authenticator"] = server.inbox.authenticate
    server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv("DIGEST_SMTP_USER", "monitor")
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "s3cret")
    try:
        settings = email_settings(
            server.port,
            starttls=mode == "starttls",
            ssl=mode == "ssl",
            username_env="DIGEST_SMTP_USER",
            password_env="DIGEST_SMTP_PASSWORD",
        )
        (tmp_path / "c.yaml").write_text(yaml.safe_dump({"digest": settings}))
        config = load(tmp_path / "c.yaml")
        channel = deliver.EmailChannel(config.digest.email, timeout=5)
        change = Change("https://www.gov.uk/x", "minor", "2026-11-27T07:00:00+00:00", "X", id=1)
        channel.send(deliver.Digest([change]))
        assert server.inbox.logins == ["monitor"]
        assert server.inbox.messages[0]["Subject"] == "“X” changed without a change note"
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong")
        with pytest.raises(deliver.DeliveryError):
            channel.send(deliver.Digest([change]))
    finally:
        server.stop()


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """A real HTTP endpoint that records every POST (JSON, or a form as a dict) and answers with
    ``status`` after ``delay`` seconds."""

    def __init__(self, port: int = 0) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    data = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                else:
                    data = json.loads(body)
                receiver.posts.append((self.path, data))
                receiver.headers.append(dict(self.headers))
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def test_webhooks_post_once_per_run_each_with_its_own_outbox(tmp_path: Path, page_server, receiver) -> None:
    hooks = [
        {"url": receiver.url("/json"), "format": "json"},
        {"url": receiver.url("/slack"), "format": "slack"},
        {"url": receiver.url("/teams"), "format": "teams"},
    ]
    monitor = Monitor(tmp_path, page_server, {"webhooks": hooks})
    assert monitor.run()[0] == 0
    assert sorted(path for path, _ in receiver.posts) == ["/json", "/slack", "/teams"]
    receiver.posts.clear()

    monitor.show(1)
    receiver.status = 500
    status, output = monitor.run()
    assert status == 1, output
    assert len(receiver.posts) == 3  # each tried once, none accepted
    receiver.posts.clear()
    receiver.status = 200
    assert monitor.run()[0] == 0
    bodies = dict(receiver.posts)
    assert sorted(bodies) == ["/json", "/slack", "/teams"]

    [change] = bodies["/json"]["changes"]
    assert change["kind"] == "major" and change["title"] == TITLE
    assert change["page_url"] == page_server.url(PAGE)
    assert change["site_link"] == f"{SITE_URL}/changes/{change['id']}.html"
    assert change["effective_date"] and change["changeset"]["attachments"] >= 1
    assert change["changeset"]["change_notes"]
    slack = bodies["/slack"]
    assert slack["text"].startswith("“Special schools") and "” updated: " in slack["text"]
    assert any(TITLE in b["text"]["text"] for b in slack["blocks"] if b["type"] == "section")
    teams = bodies["/teams"]
    [card] = teams["attachments"]
    assert teams["type"] == "message" and card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard" and card["content"]["version"] == "1.4"
    texts = [block["text"] for block in card["content"]["body"]]
    assert "” updated: " in texts[0] and any(TITLE.split(":")[0] in text for text in texts[1:])
    assert card["content"]["actions"] == [
        {"type": "Action.OpenUrl", "title": "See every change", "url": SITE_URL + "/"}
    ]

    receiver.posts.clear()
    assert monitor.run()[0] == 0
    assert receiver.posts == []


def test_a_webhook_down_does_not_hold_back_email(tmp_path: Path, page_server, mail: MailServer) -> None:
    down = f"http://127.0.0.1:{free_port()}/hook"
    monitor = Monitor(tmp_path, page_server, {**email_settings(mail.port), "webhooks": [{"url": down}]})
    assert monitor.run()[0] == 1  # the webhook's change waits for the next run
    assert len(mail.inbox.messages) == 1
    [hook] = [c for c in deliver.channels(load(monitor.config_file)) if c.__kind__ == "webhook"]
    with monitor.store() as store:
        assert store.undelivered("email") == []
        assert [c.kind for c in store.undelivered(hook.name)] == ["new"]
        assert store.deliveries(store.undelivered(hook.name)[0].id)[0]["channel"] == "email"


def test_a_page_failing_for_alert_after_failures_runs_is_reported(tmp_path: Path, mail: MailServer) -> None:
    (tmp_path / "c.yaml").write_text(
        yaml.safe_dump({"database": "m.db", "digest": email_settings(mail.port)})
    )
    config = load(tmp_path / "c.yaml")

    with Store(config.database) as store:
        store.upsert_page("https://www.gov.uk/y", title="Y guidance")
        for _ in range(3):
            fetch = FetchResult("https://www.gov.uk/y", "https://www.gov.uk/y", status=503, error="HTTP 503")
            record(store, "https://www.gov.uk/y", fetch, None, None, [])
        assert deliver.deliver_pending(config, store)
    [message] = mail.inbox.messages
    assert message["Subject"] == "We could not check 1 GOV.UK guidance page"
    assert "We could not check Y guidance for 3 runs: HTTP 503" in parts(message)[0]


def test_folder_channel_writes_each_change_once_into_its_own_outbox(tmp_path: Path, page_server) -> None:
    monitor = Monitor(tmp_path, page_server, {})
    config = load(monitor.config_file)
    inbox = deliver.FolderChannel(config.digest.email, tmp_path / "inbox")
    written = []
    for capture in (0, 1, 1):
        monitor.show(capture)
        assert monitor.cli("run", "--no-site")[0] == 0
        with monitor.store() as store:
            written.append(deliver.deliver(config, store, only=[inbox]))
    assert [len(w) for w in written] == [1, 1, 0]
    files = sorted((tmp_path / "inbox").glob("*.eml"))
    assert len(files) == 2
    subjects = {
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"] for f in files
    }
    assert "Now watching 1 DfE guidance page" in subjects
    with monitor.store() as store:
        assert store.undelivered(inbox.name) == [] and store.undelivered("email")


def test_webhook_text_dates_each_change_note_and_counts_in_the_singular_for_one() -> None:
    from monitor.model import ChangeSet, DiffOp, HistoryEntry, PageState, SectionChange
    from monitor.settings import WebhookSettings

    url = "https://www.gov.uk/guidance/x"
    changeset = ChangeSet(
        "major",
        history_added=[HistoryEntry("2022-01-19", "Updated annex A."), HistoryEntry(None, "Fixed a link.")],
        sections=[
            SectionChange("Rules", "modified", added_words=1, removed_words=1, diff=[DiffOp("insert", "a")])
        ],
    )
    change = Change(
        url, "major", "2022-01-20T07:00:00+00:00", "X", changeset, "Updated annex A.", "2022-01-19"
    )
    change.id = 1
    failing = PageState(url="https://www.gov.uk/y", title="Y", consecutive_failures=1, last_error="HTTP 503")
    digest = deliver.Digest([change], [failing], organisations={url: ["Department For Education"]})
    digest.alert_after_failures = 1
    for fmt in ("slack", "teams"):
        body = json.dumps(deliver.WebhookChannel(WebhookSettings("http://127.0.0.1/", fmt)).payload(digest))
        assert "of 19 January 2022: Updated annex A." in body, fmt
        assert "(no date given): Fixed a link." in body, fmt
        assert "1 section changed (1 word added, 1 removed), 0 attachments changed" in body, fmt
        assert "for 1 run: HTTP 503" in body, fmt
        assert "updated: Updated annex A." in body, fmt  # one page: the subject names it and its note


# --------------------------------------------------------------------------- every service, through Apprise


def test_notify_test_sends_once_on_every_channel_and_shows_only_kind_and_host(
    tmp_path: Path, receiver: Receiver, monkeypatch
) -> None:
    token = "s3cret-T0KEN"
    monkeypatch.setenv("HOOK_TOKEN", token)
    monkeypatch.setenv("FORM_URL", receiver.url(f"/form/{token}", scheme="form"))
    notify = [receiver.url("/json/${HOOK_TOKEN}", scheme="json"), {"url_env": "FORM_URL"}]
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"digest": {"notify": notify}}))

    result = CliRunner().invoke(main, ["notify", "--test", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "notify:json@127.0.0.1: sent (accepted)",
        "notify:FORM_URL: sent (accepted)",
    ]
    assert sorted(path for path, _ in receiver.posts) == [f"/form/{token}", f"/json/{token}"]
    for path, body in receiver.posts:
        channel = "notify:FORM_URL" if path.startswith("/form") else "notify:json@127.0.0.1"
        assert body["title"] == f"Test message from guidance-monitor on {channel}"
        assert body["message"] == f"Test message from guidance-monitor on {channel}."

    receiver.stop()
    result = CliRunner().invoke(main, ["notify", "--test", "--config", str(config)])
    assert result.exit_code == 1
    assert "notify:json@127.0.0.1: FAILED (" in result.output and token not in result.output
    monkeypatch.delenv("HOOK_TOKEN")
    result = CliRunner().invoke(main, ["notify", "--test", "--config", str(config)])
    assert "digest.notify[0].url: the environment variable HOOK_TOKEN is not set" in result.output


def test_each_change_goes_once_per_notify_channel_across_runs_and_an_outage(
    tmp_path: Path, page_server
) -> None:
    ntfy, team = Receiver(), Receiver()
    port = team.port
    try:
        notify = [
            ntfy.url("/topic", scheme="json"),
            {"url": team.url("/team", scheme="form"), "name": "team"},
        ]
        monitor = Monitor(tmp_path, page_server, {"notify": notify})
        status, output = monitor.run()
        assert status == 0, output
        assert [len(ntfy.posts), len(team.posts)] == [1, 1]
        assert ntfy.posts[0][1]["title"] == "Now watching 1 DfE guidance page"
        assert "notify:json@127.0.0.1: sent 1 change" in output and "notify:team: sent 1 change" in output

        team.stop()
        monitor.show(1)
        status, output = monitor.run()
        assert status == 1, output  # one channel down is reported and does not hold the other back
        assert len(ntfy.posts) == 2
        change = ntfy.posts[1][1]
        assert change["title"].startswith("“Special schools") and "” updated: " in change["title"]
        assert TITLE in change["message"] and f"{SITE_URL}/changes/" in change["message"]

        team = Receiver(port)  # back where it was
        status, output = monitor.run()
        assert status == 0, output
        assert len(ntfy.posts) == 2
        [(_, late)] = team.posts
        assert late["title"] == change["title"] and late["message"] == change["message"]

        assert monitor.run()[0] == 0
        assert len(ntfy.posts) == 2 and len(team.posts) == 1
    finally:
        ntfy.stop()
        team.stop()
