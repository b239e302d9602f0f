"""Mail and chat as their readers' tools expect, on real servers on 127.0.0.1 (aiosmtpd, an HTTP
receiver that Apprise's ``json://`` posts to): list headers and a footer on every digest, ``to`` beside
the subscribers, subscribers on Apprise, a long backlog cut with its newest first, channels shown by
name, the test message, digests rebuilt for each subscriber, and a subscriber's start in detection order.
"""

from __future__ import annotations

import email
import email.policy
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_deliver import MailServer, Receiver, free_port, mail, parts, shown
from test_deliver_faults import queue

from monitor import deliver
from monitor.cli import main
from monitor.config import load
from monitor.model import Change
from monitor.settings import EmailSettings, Subscriber
from monitor.store import Store

__all__ = ["mail"]
"""The SMTP server fixture these tests share with ``test_deliver``."""

SITE = "https://changes.example.org"
OFFICE = "office@school.example"
SENCO = "senco@school.example"
HEAD = "head@school.example"
UNSUBSCRIBE_URL = "https://changes.example.org/unsubscribe?who={email}"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def configure(tmp: Path, port: int, **digest: object) -> Path:
    file = tmp / "config.yaml"
    email_settings = {
        "to": [OFFICE],
        "from": "Guidance changes <monitor@school.example>",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "starttls": False,
        "unsubscribe": "unsubscribe@school.example",
    }
    file.write_text(
        yaml.safe_dump(
            {
                "database": "monitor.db",
                "site_dir": "site",
                "fetch": {"timeout": 5},
                "digest": {"email": email_settings, "site_url": SITE, **digest},
            }
        )
    )
    return file


def cli(config_file: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--config", str(config_file)])
    return result.exit_code, result.output


def ids(message: email.message.EmailMessage) -> str:
    return str(message["X-Guidance-Monitor-Changes"])


def test_subscriber_digests_are_list_mail_and_email_to_still_gets_every_change(
    tmp_path: Path, mail: MailServer
) -> None:
    subscribers = [{"email": SENCO, "pages": ["/guidance/rules"], "frequency": "immediate"}]
    config_file = configure(tmp_path, mail.port, subscribers=subscribers, unsubscribe_url=UNSUBSCRIBE_URL)
    status, output = cli(config_file, "check")
    assert f"email: to {OFFICE} via 127.0.0.1" in output
    with Store(tmp_path / "monitor.db") as store:
        rules, funding = queue(store, "Rules"), queue(store, "Funding")
    status, output = cli(config_file, "digest")
    assert status == 0, output
    by_to = {m["To"]: m for m in mail.inbox.messages}
    assert sorted(by_to) == [OFFICE, SENCO] and len(mail.inbox.messages) == 2
    assert ids(by_to[OFFICE]) == f"{rules.id},{funding.id}"  # every change, as check says
    assert ids(by_to[SENCO]) == str(rules.id)

    senco = by_to[SENCO]
    assert senco["List-Id"] == "GOV.UK guidance changes <guidance-monitor.school.example>"
    assert senco["Auto-Submitted"] == "auto-generated"
    assert senco["List-Unsubscribe"] == (
        "<mailto:unsubscribe@school.example?subject=unsubscribe>,"
        " <https://changes.example.org/unsubscribe?who=senco@school.example>"
    )
    assert senco["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    office = by_to[OFFICE]
    assert office["List-Id"] == senco["List-Id"] and office["Auto-Submitted"] == "auto-generated"
    assert office["List-Unsubscribe"] == "<mailto:unsubscribe@school.example?subject=unsubscribe>"
    assert office["List-Unsubscribe-Post"] is None  # one click would not say who

    for message, why in (
        (senco, f"You get this because {SENCO} subscribed to changes to 1 page"),
        (office, "You get this because your address is on this guidance-monitor's"),
    ):
        text, html = parts(message)
        for part in (" ".join(text.split()), shown(html)):
            assert why in part, part
            assert "To stop, " in part and "unsubscribe@school.example" in part
    assert "Unsubscribe button" in parts(senco)[0]
    assert cli(config_file, "digest") == (0, "Nothing to send.\n")


CONTROLS = [chr(c) for c in (*range(0, 32), *range(0x7F, 0xA0))] + ["\u202e", "\u202d", "\u2066", "\u200f"]


def test_no_header_carries_a_control_or_a_bidirectional_override() -> None:
    hostile = "Rules\u202e\x1b[31m\x07\x85 for\u2066 schools"
    settings = EmailSettings(
        to=[SENCO],
        from_="Monitor\u202e\x07 <monitor@school.example>",
        smtp_host="127.0.0.1",
        unsubscribe="unsubscribe@school.example",
    )
    subscriber = Subscriber((SENCO,), channel=f"email:{SENCO}")
    channel = deliver.EmailChannel(settings, subscriber=subscriber, unsubscribe_url=UNSUBSCRIBE_URL)
    for title in (hostile, "x"):
        changes = [
            Change("https://www.gov.uk/x", "minor", "2026-11-27T07:00:00+00:00", title, note=hostile, id=1)
        ]
        for digest in (
            deliver.Digest(changes, organisations={changes[0].page_url: [hostile]}),
            deliver.Digest([], title=hostile, message=hostile),
        ):
            raw = bytes(channel.message(digest))
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            for name, value in parsed.items():
                assert not any(c in str(value) for c in CONTROLS), (name, value)
                assert all(unicodedata.category(c)[0] != "C" for c in str(value)), (name, value)
            assert parsed["From"].addresses[0].addr_spec == "monitor@school.example"


def backlog(store: Store, count: int) -> list[Change]:
    """``count`` changes to as many pages, found an hour apart, each with a long change note."""
    start = datetime(2026, 11, 30, 7, tzinfo=UTC)
    found = []
    for n in range(count):
        url = f"https://www.gov.uk/guidance/page-{n:02d}"
        title = f"Guidance page number {n:02d}"
        store.upsert_page(url, title=title)
        when = (start + timedelta(hours=n)).isoformat(timespec="seconds")
        note = f"Updated section {n} to say what schools must now do about attendance and behaviour. " * 2
        found.append(store.add_change(Change(url, "major", when, title, note=note.strip())))
    return found


def test_a_20_change_backlog_through_apprise_leads_with_the_newest_and_says_how_many_more(
    tmp_path: Path, hook: Receiver
) -> None:
    config_file = tmp_path / "config.yaml"
    digest = {"notify": [hook.url("/chat", scheme="json")], "site_url": SITE}
    config_file.write_text(yaml.safe_dump({"database": "monitor.db", "digest": digest}))
    with Store(tmp_path / "monitor.db") as store:
        changes = backlog(store, 20)
    status, output = cli(config_file, "digest")
    assert status == 0, output
    [(_, body)] = [post for post in hook.posts if post[0] == "/chat"]
    message = body["message"]
    assert len(message) <= 3500
    lines = message.splitlines()
    assert lines[0] == changes[-1].title  # the newest story first
    shown = [c for c in changes if c.title in message]
    assert shown == changes[-len(shown) :] and 1 < len(shown) < 20  # the newest ones, then cut
    assert lines[-1] == f"and {20 - len(shown)} more changes: {SITE}/"
    assert cli(config_file, "digest") == (0, "Nothing to send.\n")  # all 20 counted as sent


def test_three_webhooks_on_one_host_are_shown_by_their_names(tmp_path: Path, hook: Receiver) -> None:
    hooks = [
        {"url": hook.url("/a"), "name": "alerts"},
        {"url": hook.url("/b")},
        {"url": hook.url("/c"), "format": "slack"},
        {"url": hook.url("/d")},
    ]
    config_file = configure(tmp_path, free_port(), webhooks=hooks)
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump({**yaml.safe_load(config_file.read_text()), "digest": {"webhooks": hooks}})
    )
    with Store(tmp_path / "monitor.db") as store:
        queue(store, "Rules")
    status, output = cli(config_file, "digest")
    assert status == 0, output
    assert [line.split(": sent")[0] for line in output.splitlines()] == [
        "webhook:alerts",
        "webhook:json@127.0.0.1",
        "webhook:slack@127.0.0.1",
        "webhook:json@127.0.0.1#2",
    ]


def test_the_test_message_says_what_it_is_and_names_the_channel(tmp_path: Path, mail: MailServer) -> None:
    config_file = configure(tmp_path, mail.port)
    status, output = cli(config_file, "notify", "--test")
    assert status == 0, output
    assert output.startswith("email:127.0.0.1: sent (")
    [message] = mail.inbox.messages
    said = "Test message from guidance-monitor on email:127.0.0.1"
    assert message["Subject"] == said
    text, html = parts(message)
    assert text.strip() == said + "."
    assert f"<p>{said}.</p>" in html and "guidance page" not in html
    assert message["X-Guidance-Monitor-Changes"] is None


def test_digest_since_send_gives_each_subscriber_their_own_rebuilt_digest(
    tmp_path: Path, mail: MailServer
) -> None:
    subscribers = [
        {"email": SENCO, "pages": ["/guidance/rules"], "frequency": "weekly"},
        {"email": HEAD, "pages": ["/guidance/funding"], "frequency": "daily"},
    ]
    config_file = configure(tmp_path, mail.port, subscribers=subscribers)
    with Store(tmp_path / "monitor.db") as store:
        rules, funding = queue(store, "Rules"), queue(store, "Funding")
    status, output = cli(config_file, "digest", "--since", "2000-01-01", "--send")
    assert status == 0, output
    got = sorted((m["To"], ids(m)) for m in mail.inbox.messages)
    assert got == [
        (HEAD, str(funding.id)),
        (OFFICE, f"{rules.id},{funding.id}"),
        (SENCO, str(rules.id)),
    ]
    by_to = {m["To"]: m for m in mail.inbox.messages}
    assert by_to[SENCO]["List-Unsubscribe"]  # their own: their headers and footer
    assert f"{SENCO} subscribed" in " ".join(parts(by_to[SENCO])[0].split())
    assert f"email:{SENCO}: sent 1 change" in output
    assert cli(config_file, "digest") == (0, "Nothing to send.\n")  # marked on each one's outbox
    assert len(mail.inbox.messages) == 3


def test_a_subscriber_on_apprise_gets_their_changes_once(
    tmp_path: Path, mail: MailServer, hook: Receiver
) -> None:
    subscribers = [
        {
            "notify": hook.url("/send-team", scheme="json"),
            "pages": ["/guidance/rules"],
            "frequency": "immediate",
        },
        {"email": SENCO, "notify": [hook.url("/senco", scheme="json")], "frequency": "immediate"},
    ]
    config_file = configure(tmp_path, mail.port, subscribers=subscribers)
    with Store(tmp_path / "monitor.db") as store:
        queue(store, "Rules"), queue(store, "Funding")
    status, output = cli(config_file, "digest")
    assert status == 0, output
    posts = {path: body for path, body in hook.posts}
    assert sorted(posts) == ["/senco", "/send-team"]
    assert "Rules" in posts["/send-team"]["message"] and "Funding" not in posts["/send-team"]["message"]
    assert "Rules" in posts["/senco"]["message"] and "Funding" in posts["/senco"]["message"]
    assert sorted(m["To"] for m in mail.inbox.messages) == [OFFICE, SENCO]
    assert f"notify:{SENCO}: sent 2 changes" in output
    assert cli(config_file, "digest") == (0, "Nothing to send.\n")
    assert len(hook.posts) == 2


def test_a_change_recorded_while_the_clock_reads_earlier_than_a_subscribers_start_is_sent(
    tmp_path: Path,
    mail: MailServer,
) -> None:
    subscribers = [{"email": SENCO, "frequency": "immediate"}]
    config = load(configure(tmp_path, mail.port, subscribers=subscribers))
    tuesday = datetime(2026, 12, 1, 7, tzinfo=UTC)
    with Store(tmp_path / "monitor.db") as store:
        store.upsert_page("https://www.gov.uk/guidance/a", title="A")
        store.upsert_page("https://www.gov.uk/guidance/b", title="B")
        monday = store.add_change(
            Change("https://www.gov.uk/guidance/a", "major", "2026-11-30T09:00:00+00:00", "A")
        )
        deliver.deliver_pending(config, store, now=tuesday)  # their first run: they start on Tuesday
        assert [m["To"] for m in mail.inbox.messages] == [OFFICE]  # Monday's change is not theirs
        # The clock is set back to Monday evening, and a change is recorded then.
        late = store.add_change(
            Change("https://www.gov.uk/guidance/b", "major", "2026-11-30T23:00:00+00:00", "B")
        )
        deliver.deliver_pending(config, store, now=tuesday + timedelta(hours=1))
    got = {m["To"]: ids(m) for m in mail.inbox.messages[1:]}
    assert got == {SENCO: str(late.id), OFFICE: str(late.id)}
    assert monday.id is not None and str(monday.id) not in got[SENCO]
