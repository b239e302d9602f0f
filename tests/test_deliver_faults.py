"""Delivery under faults, on real servers on 127.0.0.1: an aiosmtpd SMTP server with handlers that answer
QUIT with 421, refuse or defer one recipient, refuse a message for its size or advertise a small ``SIZE``,
a process killed between the server's 250 and the outbox's mark, an HTTP receiver that answers late, and
hostile page text on its way into chat payloads and headers.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from conftest import Response
from test_deliver import CAPTURES, PAGE, Receiver, free_port, parts

from monitor import deliver
from monitor.cli import main
from monitor.clock import utc_now
from monitor.config import ConfigError, load
from monitor.model import Change, ChangeSet, DiffOp, SectionChange
from monitor.render import chat
from monitor.settings import WebhookSettings
from monitor.store import Store

TO = ["senco@school.example", "head@school.example"]


@dataclass
class Handler:
    """An SMTP server's behaviour: per-recipient answers, a QUIT answer, a size limit on DATA."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    rcpt: dict[str, str] = field(default_factory=dict)
    """address -> the answer to its RCPT (``550 …``, ``450 …``); others are accepted."""
    quit: str = "221 Bye"
    refuse_over: int = 0
    """Answer DATA with 552 when the message is larger than this (0: never)."""
    kill_on_data: int | None = None
    """A process id to SIGKILL when a message arrives, before answering 250."""
    data: str = ""
    """An answer to DATA other than 250 (``554 …``), for every message."""

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.rcpt:
            return self.rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.refuse_over and len(envelope.original_content) > self.refuse_over:
            return "552 5.3.4 Message size exceeds fixed limit"
        if self.data:
            return self.data
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        if self.kill_on_data is not None:
            os.kill(self.kill_on_data, signal.SIGKILL)
            time.sleep(0.2)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        return self.quit


@contextlib.contextmanager
def mail_server(**limits: int) -> Iterator[tuple[Handler, Controller]]:
    """A real SMTP server on 127.0.0.1, with aiosmtpd's ``limits`` (e.g. ``data_size_limit``, which it
    advertises as SIZE)."""
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **limits)
    controller.start()
    try:
        yield handler, controller
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, Controller]]:
    with mail_server() as server:
        yield server


def configure(tmp: Path, port: int, **digest: object) -> Path:
    file = tmp / "config.yaml"
    email_settings = {"to": TO, "from": "monitor@school.example", "smtp_host": "127.0.0.1"}
    email_settings.update(smtp_port=port, starttls=False)
    file.write_text(
        yaml.safe_dump(
            {
                "database": "monitor.db",
                "site_dir": "site",
                "fetch": {"timeout": 2},
                "digest": {"email": email_settings, "site_url": "https://changes.example.org", **digest},
            }
        )
    )
    return file


def queue(store: Store, title: str, *, words: int = 20, sections: int = 1) -> Change:
    """A change waiting in the outbox, with ``sections`` sections of ``words`` inserted words each."""
    url = f"https://www.gov.uk/guidance/{title.lower().replace(' ', '-')}"
    store.upsert_page(url, title=title)
    changeset = ChangeSet(
        "minor",
        sections=[
            SectionChange(
                f"Part {n}", "modified", added_words=words, diff=[DiffOp("insert", "word " * words)]
            )
            for n in range(sections)
        ],
    )
    return store.add_change(Change(url, "minor", utc_now(), title, changeset))


def digest(config_file: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["digest", "--config", str(config_file)])
    return result.exit_code, result.output


def received(handler: Handler) -> list[tuple[str, str, str]]:
    """(recipient, Message-ID, change ids) of every copy the server accepted."""
    return [
        (to, m["Message-ID"], m["X-Guidance-Monitor-Changes"]) for tos, m in handler.messages for to in tos
    ]


def test_a_421_on_quit_after_the_250_is_a_sent_message_not_resent(tmp_path: Path, smtp) -> None:
    handler, controller = smtp
    handler.quit = "421 4.3.0 Closing connection"
    config_file = configure(tmp_path, controller.port)
    with Store(tmp_path / "monitor.db") as store:
        change = queue(store, "Rules")
    status, output = digest(config_file)
    assert status == 0, output
    assert "email:127.0.0.1: sent 1 change" in output
    assert len(handler.messages) == 1
    assert digest(config_file) == (0, "Nothing to send.\n")
    assert len(handler.messages) == 1
    with Store(tmp_path / "monitor.db") as store:
        assert store.undelivered("email") == []
        assert [d["channel"] for d in store.deliveries(change.id)] == ["email"]


def test_a_refused_and_a_deferred_recipient_each_get_the_changes_later_alone(tmp_path: Path, smtp) -> None:
    handler, controller = smtp
    third = "governor@school.example"
    config_file = configure(tmp_path, controller.port)
    config = yaml.safe_load(config_file.read_text())
    config["digest"]["email"]["to"] = [*TO, third]
    config_file.write_text(yaml.safe_dump(config))
    handler.rcpt = {TO[1]: "550 5.1.1 No such user", third: "450 4.2.0 Mailbox busy, try later"}
    with Store(tmp_path / "monitor.db") as store:
        first = queue(store, "Rules")

    status, output = digest(config_file)
    assert status == 1, output
    assert [to for to, _, _ in received(handler)] == [TO[0]]
    # Said as it is: the first recipient has it, the other two will be tried again.
    assert (
        f"1 change sent to {TO[0]}; deferred by {third}; refused by {TO[1]} (550 5.1.1 No such user);"
        " kept in the outbox for them and tried again at the next run"
    ) in output, output
    with Store(tmp_path / "monitor.db") as store:
        assert [c.id for c in store.undelivered("email")] == [first.id]
        second = queue(store, "Funding")

    handler.rcpt = {TO[1]: "550 5.1.1 No such user"}
    status, output = digest(config_file)
    assert status == 1, output  # still refused: still a problem to report
    assert f"refused by {TO[1]} (550 5.1.1 No such user)" in output
    got = received(handler)[1:]
    # the deferred recipient gets both changes in one message; the first recipient only the new one
    assert sorted((to, ids) for to, _, ids in got) == sorted(
        [(TO[0], str(second.id)), (third, f"{first.id},{second.id}")]
    )

    handler.rcpt = {}  # the operator mended the address
    status, output = digest(config_file)
    assert status == 0, output
    assert [(to, ids) for to, _, ids in received(handler)[3:]] == [(TO[1], f"{first.id},{second.id}")]
    assert digest(config_file) == (0, "Nothing to send.\n")
    everyone = [to for to, _, _ in received(handler)]
    assert sorted(everyone) == sorted([TO[0], TO[0], third, TO[1]])  # each has each change once
    with Store(tmp_path / "monitor.db") as store:
        assert store.undelivered("email") == []


def test_the_sent_line_names_only_the_recipients_that_accepted(tmp_path: Path, smtp) -> None:
    """Found by benchmarks/fault_run.py: with one recipient refused, the run said the changes were sent
    "to" both addresses, the refused one included."""
    handler, controller = smtp
    handler.rcpt = {TO[1]: "550 5.1.1 No such user"}
    config_file = configure(tmp_path, controller.port)
    with Store(tmp_path / "monitor.db") as store:
        queue(store, "Rules")
    result = CliRunner().invoke(main, ["digest", "-q", "--config", str(config_file)])
    assert result.exit_code == 1, result.output
    assert f"email:127.0.0.1: 1 change sent to {TO[0]}; refused by {TO[1]} (550" in result.stderr


def test_a_554_at_data_keeps_the_changes_and_they_go_once_on_a_later_run_of_run_q(
    tmp_path: Path, smtp, page_server
) -> None:
    handler, controller = smtp
    handler.data = "554 5.7.1 Message rejected as spam"
    config_file = configure(tmp_path, controller.port)
    config = yaml.safe_load(config_file.read_text())
    page_server.routes[PAGE] = Response(body=CAPTURES[0])
    config.update(govuk_base_url=page_server.base_url, pages=[PAGE])
    config["fetch"].update(source="html", retries=1, rate_per_host=100)
    config_file.write_text(yaml.safe_dump(config))

    def run() -> Result:
        return CliRunner().invoke(main, ["run", "-q", "--no-site", "--config", str(config_file)])

    result = run()
    assert result.exit_code == 1, result.output
    for address in TO:  # each refusal, with the server's reply, on standard error whatever -q says
        assert f"{address} (554 5.7.1 Message rejected as spam)" in result.stderr
    assert handler.messages == []

    handler.data = ""
    result = run()
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert sorted(to for to, _, _ in received(handler)) == sorted(TO)
    result = run()
    assert result.exit_code == 0, result.output
    assert len(handler.messages) == 1  # once
    assert handler.messages[0][1]["Subject"].startswith("Now watching 1 ")


def test_a_refusal_is_shown_tried_again_then_given_up_after_give_up_after_days(tmp_path: Path, smtp) -> None:
    handler, controller = smtp
    handler.rcpt = {TO[1]: "550 5.1.1 No such user"}
    config_file = configure(tmp_path, controller.port, give_up_after_days=2)
    with Store(tmp_path / "monitor.db") as store:
        change = queue(store, "Rules")
    status, output = digest(config_file)
    assert status == 1 and f"refused by {TO[1]} (550 5.1.1 No such user)" in output, output

    waiting = f"email: {TO[1]} refused 1 change since "
    for command in (["pages"], ["notify", "--test"]):
        result = CliRunner().invoke(main, [*command, "--config", str(config_file)])
        assert waiting in result.output, result.output
        assert "(550 5.1.1 No such user); tried again at each run until " in result.output

    with Store(tmp_path / "monitor.db") as store:  # two days on
        store.db.execute("UPDATE recipient_deliveries SET refused_since = '2026-01-01T00:00:00+00:00'")
        store.db.commit()
    status, output = digest(config_file)
    assert status == 1, output
    assert f"given up on {TO[1]} (550 5.1.1 No such user), refused for 2 days" in output
    assert digest(config_file) == (0, "Nothing to send.\n")
    assert [to for to, _, _ in received(handler)] == [TO[0], TO[0]]  # the digest, the test message
    with Store(tmp_path / "monitor.db") as store:
        assert store.undelivered("email") == []
        assert f"given up on {TO[1]} (550" in store.deliveries(change.id)[0]["detail"]
    result = CliRunner().invoke(main, ["pages", "--config", str(config_file)])
    assert waiting not in result.output


def test_killed_between_the_250_and_the_mark_resends_one_message_with_the_same_message_id(
    tmp_path: Path, smtp
) -> None:
    handler, controller = smtp
    config_file = configure(tmp_path, controller.port)
    with Store(tmp_path / "monitor.db") as store:
        first = queue(store, "Rules")
    command = [sys.executable, "-m", "monitor", "digest", "--config", str(config_file)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    handler.kill_on_data = process.pid
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    handler.kill_on_data = None
    [(_, killed)] = handler.messages
    with Store(tmp_path / "monitor.db") as store:
        assert store.integrity_check() == "ok"
        assert [c.id for c in store.undelivered("email")] == [first.id]  # the kill came before the mark
        second = queue(store, "Funding")  # a new change meanwhile must not change the resent message

    status, output = digest(config_file)
    assert status == 0, output
    ids = [m["X-Guidance-Monitor-Changes"] for _, m in handler.messages]
    assert ids == [str(first.id), str(first.id), str(second.id)]
    resent = handler.messages[1][1]
    assert resent["Message-ID"] == killed["Message-ID"]  # a copy mail systems can recognise
    assert handler.messages[2][1]["Message-ID"] != killed["Message-ID"]
    assert digest(config_file) == (0, "Nothing to send.\n")
    assert len(handler.messages) == 3


def test_message_ids_are_stable_for_the_same_changes_and_recipients() -> None:
    settings = load_settings()
    channel = deliver.EmailChannel(settings)
    one = Change("https://www.gov.uk/x", "minor", "2026-11-27T07:00:00+00:00", "X", id=7)
    two = Change("https://www.gov.uk/y", "minor", "2026-11-27T07:00:00+00:00", "Y", id=8)
    first = channel.message(deliver.Digest([one, two]))["Message-ID"]
    assert channel.message(deliver.Digest([one, two]))["Message-ID"] == first
    assert channel.message(deliver.Digest([one]))["Message-ID"] != first
    assert channel.message(deliver.Digest([one, two]), recipients=TO[:1])["Message-ID"] != first


def load_settings():
    from monitor.settings import EmailSettings

    return EmailSettings(to=list(TO), from_="monitor@school.example", smtp_host="127.0.0.1")


def test_a_digest_over_the_servers_size_is_split_and_a_huge_section_cut_short(tmp_path: Path) -> None:
    with mail_server(data_size_limit=60_000) as (handler, controller):
        config_file = configure(tmp_path, controller.port)
        with Store(tmp_path / "monitor.db") as store:
            changes = [queue(store, f"Page {n}", words=1500) for n in range(4)]
            huge = queue(store, "Huge", words=1_000_000)  # a 5 MB section
        status, output = digest(config_file)
        assert status == 0, output
        carried = sorted(
            int(i) for _, m in handler.messages for i in m["X-Guidance-Monitor-Changes"].split(",")
        )
        assert carried == sorted(c.id for c in [*changes, huge])  # every change once, none lost
        assert len(handler.messages) > 1
        [(_, short)] = [
            (t, m) for t, m in handler.messages if m["X-Guidance-Monitor-Changes"] == str(huge.id)
        ]
        text = parts(short)[0]
        assert "cut short to fit the email" in text
        assert f"https://changes.example.org/changes/{huge.id}.html" in text
        with Store(tmp_path / "monitor.db") as store:
            assert store.undelivered("email") == []


def test_a_change_to_hundreds_of_sections_is_cut_short_in_all_not_only_in_each(tmp_path: Path) -> None:
    """400 sections of 300 words each: cut to 200 words a section, the message would still be over the
    server's limit and refused; cut short overall, it goes, and says so."""
    with mail_server(data_size_limit=300_000) as (handler, controller):
        config_file = configure(tmp_path, controller.port)
        with Store(tmp_path / "monitor.db") as store:
            many = queue(store, "Many", words=300, sections=400)
        status, output = digest(config_file)
        assert status == 0, output
        [(_, message)] = handler.messages
        assert message["X-Guidance-Monitor-Changes"] == str(many.id)
        text = parts(message)[0]
        assert "cut short to fit the email" in text
        assert "Part 399" in text  # every changed section is still named
        with Store(tmp_path / "monitor.db") as store:
            assert store.undelivered("email") == []


def test_a_permanent_552_is_reported_and_never_blocks_later_changes(tmp_path: Path, smtp) -> None:
    handler, controller = smtp
    handler.refuse_over = 60_000  # no SIZE advertised: the server refuses at the end of DATA
    config_file = configure(tmp_path, controller.port)
    with Store(tmp_path / "monitor.db") as store:
        huge = queue(store, "Huge", words=300, sections=400)  # still too large when cut short
    status, output = digest(config_file)
    assert status == 1, output
    assert f"refused by {TO[0]} (552" in output and TO[1] in output
    assert handler.messages == []
    with Store(tmp_path / "monitor.db") as store:
        assert [c.id for c in store.undelivered("email")] == [huge.id]  # tried again, until given up
        later = queue(store, "Later")
    status, output = digest(config_file)
    assert status == 1, output
    assert [m["X-Guidance-Monitor-Changes"] for _, m in handler.messages] == [str(later.id)]

    config = yaml.safe_load(config_file.read_text())
    config["digest"]["give_up_after_days"] = 0
    config_file.write_text(yaml.safe_dump(config))
    status, output = digest(config_file)
    assert status == 1 and f"given up on {TO[0]} (552" in output, output
    assert digest(config_file) == (0, "Nothing to send.\n")
    with Store(tmp_path / "monitor.db") as store:
        assert store.undelivered("email") == []  # reported, not held forever
        assert "552" in store.deliveries(huge.id)[0]["detail"]


# --------------------------------------------------------------------------- hostile text


HOSTILE = [
    ("slack broadcast", "<!channel> urgent"),
    ("slack user ping", "<@U024BE7LH> look"),
    ("slack forged link", "<https://evil.example/|Read the guidance>"),
    ("teams mention", "<at>Everyone</at> now"),
    ("right-to-left override", "Guidance \u202egnp.exe"),
]


@pytest.mark.parametrize(("case", "title"), HOSTILE, ids=[c for c, _ in HOSTILE])
def test_page_text_cannot_act_in_chat_payloads(case: str, title: str) -> None:
    change = Change("https://www.gov.uk/x", "major", "2026-11-27T07:00:00+00:00", title, note=title, id=1)
    digest_ = deliver.Digest([change], organisations={change.page_url: [title]})
    slack = deliver.WebhookChannel(WebhookSettings("http://127.0.0.1/", "slack")).payload(digest_)
    teams = deliver.WebhookChannel(WebhookSettings("http://127.0.0.1/", "teams")).payload(digest_)
    slack_texts = [slack["text"]] + [b["text"]["text"] for b in slack["blocks"] if b["type"] == "section"]
    for text in slack_texts:
        for raw in ("<!channel>", "<@U024BE7LH>", "<https://evil.example/|", "\u202e"):
            assert raw not in text, (case, text)
    card = teams["attachments"][0]["content"]
    for text in [teams["summary"], *(block["text"] for block in card["body"])]:
        for raw in ("<at>", "<!channel>", "[Read the guidance]", "\u202e"):
            assert raw not in text, (case, text)
    title_, body = chat.notification(digest_)
    assert "\u202e" not in title_ + body


def test_a_hostile_organisation_name_never_reaches_the_subject_raw() -> None:
    name = "\u202e" + "Department " * 5000 + "\x1b[31m\r\nBcc: everyone@example.org"
    changes = [
        Change(f"https://www.gov.uk/{page}", "minor", "2026-11-27T07:00:00+00:00", page, id=i)
        for i, page in enumerate(("x", "y"), 1)
    ]  # two pages: the subject counts them under the organisation's name
    message = deliver.EmailChannel(load_settings()).message(
        deliver.Digest(changes, organisations={c.page_url: [name] for c in changes})
    )
    parsed = email.message_from_bytes(bytes(message), policy=email.policy.default)
    subject = parsed["Subject"]
    assert len(subject) <= chat.SUBJECT_LIMIT
    assert not any(c in subject for c in "\u202e\x1b\r\n")
    assert parsed["Bcc"] is None
    assert "… guidance pages changed since " in subject  # the organisation is cut, not the meaning
    assert all(len(line) <= 998 for line in message.as_bytes(policy=email.policy.SMTP).split(b"\r\n"))


# ------------------------------------------------------------------ webhooks: identity, timeouts, secrets


def test_a_webhooks_identity_is_its_name_and_its_token_is_never_printed(
    tmp_path: Path, smtp, monkeypatch, caplog
) -> None:
    handler, controller = smtp
    first, second = Receiver(), Receiver()
    try:
        token = "T0KEN-s3cret-value"
        monkeypatch.setenv("TEAM_HOOK", first.url(f"/services/T0/B0/{token}?token={token}"))
        config_file = configure(
            tmp_path, controller.port, webhooks=[{"url_env": "TEAM_HOOK", "format": "slack"}]
        )
        with Store(tmp_path / "monitor.db") as store:
            queue(store, "Rules")
        status, output = digest(config_file)
        assert status == 0, output
        assert "webhook:TEAM_HOOK: sent 1 change" in output  # shown by its name
        assert token not in output and len(first.posts) == 1

        monkeypatch.setenv("TEAM_HOOK", second.url(f"/services/T0/B0/{token}2"))  # a rotated address
        assert digest(config_file) == (0, "Nothing to send.\n")
        assert second.posts == []
        with Store(tmp_path / "monitor.db") as store:
            queue(store, "Funding")
        second.status = 500
        status, output = digest(config_file)
        assert status == 1, output
        assert "webhook:TEAM_HOOK: 1 change not sent (answered HTTP 500)" in output
        assert token not in output + caplog.text
        with Store(tmp_path / "monitor.db") as store:
            channels = {r[0] for r in store.db.execute("SELECT channel FROM deliveries")}
        assert not any(token in c for c in channels)
    finally:
        first.stop()
        second.stop()


def test_a_webhook_url_from_an_old_outbox_is_carried_over_not_resent(tmp_path: Path, smtp) -> None:
    handler, controller = smtp
    hook = Receiver()
    try:
        url = hook.url("/hook")
        config_file = configure(tmp_path, controller.port, webhooks=[{"url": url}])
        with Store(tmp_path / "monitor.db") as store:
            change = queue(store, "Rules")
            store.mark_delivered(f"webhook:{url}", [change.id], "HTTP 200")  # as earlier versions named it
        digest(config_file)
        assert hook.posts == []
        with Store(tmp_path / "monitor.db") as store:
            assert all(url not in r["channel"] for r in store.deliveries(change.id))
    finally:
        hook.stop()


def test_a_webhook_answering_after_the_timeout_is_not_posted_twice(tmp_path: Path, smtp) -> None:
    handler, controller = smtp
    hook = Receiver()
    hook.delay = 3.5  # fetch.timeout is 2 s
    try:
        config_file = configure(tmp_path, controller.port, webhooks=[{"url": hook.url("/hook")}])
        with Store(tmp_path / "monitor.db") as store:
            queue(store, "Rules")
        status, output = digest(config_file)
        assert status == 0, output
        assert "not posted twice" in output
        hook.delay = 0
        assert digest(config_file) == (0, "Nothing to send.\n")
        assert len(hook.posts) == 1
        key = hook.headers[0]["X-Guidance-Monitor-Delivery"]
        assert key == deliver.message_key("webhook:json@127.0.0.1", [1])
    finally:
        hook.stop()


BROKEN = [
    ({"email": {"to": ["a@b.example"]}}, "digest.email.smtp_host: missing"),
    ({"webhooks": [{"format": "slack"}]}, "digest.webhooks[0].url: give either url or url_env"),
    (
        {"webhooks": [{"url": "ftp://hooks.example/T0K3N"}]},
        "digest.webhooks[0].url: must be an http(s) address",
    ),
    ({"notify": ["not a url"]}, "digest.notify[0].url: must be an Apprise URL"),
    ({"notify": [{"url_env": "X", "token": "y"}]}, "digest.notify[0].token: unknown key"),
]


@pytest.mark.parametrize(("digest_", "message"), BROKEN, ids=[m for _, m in BROKEN])
def test_broken_channel_config_names_the_key_and_never_echoes_an_address(
    tmp_path: Path, digest_: dict, message: str
) -> None:
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"digest": digest_}))
    with pytest.raises(ConfigError) as error:
        load(tmp_path / "c.yaml")
    assert message in str(error.value)
    assert "T0K3N" not in str(error.value)


def test_chat_payload_bodies_are_listed_once() -> None:
    from monitor.settings import WEBHOOK_FORMATS

    assert tuple(chat.WEBHOOK_BODIES) == WEBHOOK_FORMATS
    assert {"email", "folder", "webhook", "notify"} <= set(deliver.Channel.registry)
    for kind in deliver.Channel.registry.values():
        assert kind.__doc__ and len(kind.__doc__) > 80, kind  # the user documentation of each channel
    assert json.dumps(chat.notification(chat.test_message("webhook:alerts")))


SHOWN = [
    ("https://hooks.slack.com/services/T0/B0/XXXX", "hooks.slack.com"),
    ("json://127.0.0.1:8080/hooks/${TOKEN}", "127.0.0.1"),
    ("ntfy://ntfy.sh/secret-topic", "ntfy.sh"),
    ("mailto://user:password@gmail.com", "gmail.com"),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", ""),  # Slack's tokens sit where a host goes
    ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123", ""),
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", ""),
]


@pytest.mark.parametrize(("url", "host"), SHOWN, ids=[u.split(":")[0] + ":" + h for u, h in SHOWN])
def test_a_channel_is_shown_by_a_host_never_by_a_token(url: str, host: str) -> None:
    assert deliver.shown_host(url) == host
