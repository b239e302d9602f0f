"""Subscribers: the ``digest.subscribers`` key, which changes each one gets, and when (the scheduler's
clock passed in). Each table row is one case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from monitor.config import ConfigError, from_mapping
from monitor.model import Change, ChangeSet, PageState, SectionChange, Signal
from monitor.settings import Subscriber
from monitor.subscriptions import SubscriberError, due, matches, parse_subscribers, subscribers

SENCO = "https://www.gov.uk/government/publications/mandatory-qualification-for-sencos"
SENCO_DOC = (
    f"{SENCO}/transition-to-national-professional-qualification-for-special-educational-needs-co-ordinators"
)
ATTENDANCE = "https://www.gov.uk/government/publications/school-attendance"

# --------------------------------------------------------------------------- configuration

ERRORS = [
    ("{}", "digest.subscribers: must be a list of subscribers"),
    ("[senco@school.example]", "digest.subscribers[0]: must be a mapping with an email"),
    (
        "[{pages: [/x]}]",
        "digest.subscribers[0].email: missing (an email address, or Apprise URLs under notify)",
    ),
    (
        "[{notify: [not a url]}]",
        "digest.subscribers[0].notify[0]: must be an Apprise URL such as ntfy://ntfy.sh/TOPIC",
    ),
    (
        "[{notify: json://127.0.0.1/a}, {notify: [json://127.0.0.1/a]}]",
        "digest.subscribers[1].notify: json://127.0.0.1/a is already a subscriber (digest.subscribers[0])",
    ),
    ("[{email: not-an-address}]", "digest.subscribers[0].email: must be an email address or a list of them"),
    (
        "[{email: a@school.example}, {email: b@school.example, frequency: hourly}]",
        "digest.subscribers[1].frequency: must be one of immediate, daily, weekly",
    ),
    (
        "[{email: a@school.example, frequency: weekly, day: someday}]",
        "digest.subscribers[0].day: must be a day of the week (monday to sunday)",
    ),
    (
        "[{email: a@school.example, signals: [duty, deadline]}]",
        "digest.subscribers[0].signals[1]: must be one of duty, date, amount, link, removed-text",
    ),
    (
        "[{email: a@school.example, searches: [SEND]}]",
        "digest.subscribers[0].searches[0]: no search named 'SEND' in searches (DfE SEND guidance)",
    ),
    (
        "[{email: a@school.example, pages: [ftp://x/y]}]",
        "digest.subscribers[0].pages[0]: must be an http(s) address or a path glob, not 'ftp://x/y'",
    ),
    ("[{email: a@school.example, pages: [1]}]", "digest.subscribers[0].pages: must be a list of text values"),
    (
        "[{email: a@school.example, when: daily}]",
        "digest.subscribers[0].when: unknown key"
        " (known: email, notify, pages, searches, signals, frequency, day)",
    ),
    (
        "[{email: a@school.example}, {email: A@school.example}]",
        "digest.subscribers[1].email: A@school.example is already a subscriber (digest.subscribers[0])",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[m.split(":")[0] for _, m in ERRORS])
def test_a_mistake_is_one_line_naming_the_key(text, message):
    with pytest.raises(SubscriberError) as caught:
        parse_subscribers(yaml.safe_load(text), searches={"DfE SEND guidance"})
    assert str(caught.value) == message


def test_config_reads_subscribers_and_reports_their_mistakes_as_config_errors():
    raw = yaml.safe_load(
        """
        searches: [{name: DfE SEND guidance, query: special educational needs}]
        digest:
          email: {to: [office@school.example], smtp_host: smtp.school.example}
          subscribers:
            - email: senco@school.example
              searches: [DfE SEND guidance]
            - email: [head@school.example, deputy@school.example]
              frequency: weekly
              day: Friday
            - email: reporter@paper.example
              pages: /government/publications/*senco*
              signals: [duty, date]
              frequency: immediate
        """
    )
    assert from_mapping(raw).digest.subscribers == [
        Subscriber(
            ("senco@school.example",), searches=("DfE SEND guidance",), channel="email:senco@school.example"
        ),
        Subscriber(
            ("head@school.example", "deputy@school.example"),
            frequency="weekly",
            day="friday",
            channel="email:head@school.example",
        ),
        Subscriber(
            ("reporter@paper.example",),
            pages=("/government/publications/*senco*",),
            signals=("duty", "date"),
            frequency="immediate",
            channel="email:reporter@paper.example",
        ),
    ]
    assert from_mapping({"digest": {"email": {"to": []}}}).digest.subscribers == []
    raw["digest"]["subscribers"][1]["frequency"] = "fortnightly"
    with pytest.raises(
        ConfigError, match=r"^digest\.subscribers\[1\]\.frequency: must be one of immediate, daily"
    ):
        from_mapping(raw)


def test_email_to_is_one_subscriber_of_everything_at_every_run_with_subscribers_or_without():
    [everyone] = subscribers([], ["senco@school.example", "head@school.example"])
    assert everyone.to == ("senco@school.example", "head@school.example")
    assert (everyone.frequency, everyone.channel, everyone.pages, everyone.signals) == (
        "immediate",
        "email",
        (),
        (),
    )
    assert subscribers([], []) == []
    mine = Subscriber(("a@school.example",), channel="email:a@school.example")
    assert subscribers([mine], ["office@school.example"]) == [
        mine,
        Subscriber(("office@school.example",), frequency="immediate"),
    ]
    assert subscribers([mine], []) == [mine]


# --------------------------------------------------------------------------- which changes


def change(url: str = SENCO, kind: str = "minor", signals: tuple[str, ...] = (), **fields) -> Change:
    sections = [SectionChange("Details", "modified", signals=[Signal(k, "a", "b") for k in signals])]
    changeset = ChangeSet(kind=kind, sections=sections) if kind in ("major", "minor") else None
    return Change(page_url=url, kind=kind, detected_at="2026-11-30T07:00:00Z", changeset=changeset, **fields)


EVERYTHING = Subscriber(("head@school.example",))
ONE_PAGE = Subscriber(("reporter@paper.example",), pages=(SENCO,))
GLOB = Subscriber(("senco@school.example",), pages=("/government/publications/*senco*",))
FULL_GLOB = Subscriber(
    ("senco@school.example",), pages=("https://www.gov.uk/government/publications/*attendance",)
)
SEARCH = Subscriber(("senco@school.example",), searches=("DfE SEND guidance",))
DUTIES = Subscriber(("trust@school.example",), signals=("duty", "date"))
PAGE_AND_DUTIES = Subscriber(("reporter@paper.example",), pages=(SENCO,), signals=("duty",))

MATCHES = [
    ("everything-gets-any-page", EVERYTHING, change(ATTENDANCE), None, True),
    ("everything-gets-page-events", EVERYTHING, change(kind="removed"), None, True),
    ("never-backfilled-history", EVERYTHING, change(kind="major", backfilled=True), None, False),
    ("one-page-by-address", ONE_PAGE, change(), None, True),
    ("one-page-any-spelling", ONE_PAGE, change(f"{SENCO}/?utm_source=alert#x"), None, True),
    ("one-page-not-another", ONE_PAGE, change(ATTENDANCE), None, False),
    ("one-page-and-its-documents", ONE_PAGE, change(SENCO_DOC), PageState(SENCO_DOC, parent_url=SENCO), True),
    ("a-document-without-its-parent-known", ONE_PAGE, change(SENCO_DOC), None, False),
    (
        "a-moved-page-by-its-new-address",
        ONE_PAGE,
        change(ATTENDANCE, kind="moved", new_url=SENCO),
        None,
        True,
    ),
    ("glob-on-the-path", GLOB, change(), None, True),
    ("glob-on-the-path-not-another", GLOB, change(ATTENDANCE), None, False),
    ("glob-on-a-full-address", FULL_GLOB, change(ATTENDANCE), None, True),
    (
        "search-that-found-the-page",
        SEARCH,
        change(ATTENDANCE),
        PageState(ATTENDANCE, search="DfE SEND guidance"),
        True,
    ),
    ("another-search-found-it", SEARCH, change(ATTENDANCE), PageState(ATTENDANCE, search="Other"), False),
    (
        "page-state-without-a-search",
        SEARCH,
        change(ATTENDANCE),
        PageState(ATTENDANCE, source="config"),
        False,
    ),
    ("no-page-state-no-search", SEARCH, change(ATTENDANCE), None, False),
    ("signal-kind-wanted", DUTIES, change(signals=("amount", "date")), None, True),
    ("signal-kind-not-wanted", DUTIES, change(signals=("amount", "removed-text")), None, False),
    ("no-signals-at-all", DUTIES, change(kind="major"), None, False),
    ("page-event-passes-signal-filter", DUTIES, change(kind="withdrawn"), None, True),
    ("page-and-signal-both-needed", PAGE_AND_DUTIES, change(signals=("duty",)), None, True),
    ("page-right-signal-wrong", PAGE_AND_DUTIES, change(signals=("amount",)), None, False),
    ("signal-right-page-wrong", PAGE_AND_DUTIES, change(ATTENDANCE, signals=("duty",)), None, False),
]


@pytest.mark.parametrize(
    ("subscriber", "one", "page", "expected"), [m[1:] for m in MATCHES], ids=[m[0] for m in MATCHES]
)
def test_matches(subscriber, one, page, expected):
    assert matches(subscriber, one, page) is expected


def test_matches_pages_given_as_gov_uk_addresses_on_a_test_server():
    base = "http://127.0.0.1:8123"
    local = change("http://127.0.0.1:8123/government/publications/mandatory-qualification-for-sencos")
    assert matches(ONE_PAGE, local, None, base_url=base)
    assert not matches(ONE_PAGE, local, None)


# --------------------------------------------------------------------------- when


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


IMMEDIATE = Subscriber(("r@paper.example",), frequency="immediate")
DAILY = Subscriber(("s@school.example",))
MONDAYS = Subscriber(("h@school.example",), frequency="weekly", day="monday")
FRIDAYS = Subscriber(("h@school.example",), frequency="weekly", day="friday")

# 30 November 2026 is a Monday.
DUE = [
    ("immediate-first-run", IMMEDIATE, None, "2026-11-30T07:00", True),
    ("immediate-again-minutes-later", IMMEDIATE, "2026-11-30T07:00:00Z", "2026-11-30T07:05", True),
    ("daily-first-run", DAILY, None, "2026-11-30T07:00", True),
    ("daily-same-day", DAILY, "2026-11-30T07:00:00Z", "2026-11-30T19:00", False),
    ("daily-next-day", DAILY, "2026-11-30T07:00:00Z", "2026-12-01T07:00", True),
    ("daily-after-an-outage", DAILY, "2026-11-27T07:00:00Z", "2026-11-30T07:00", True),
    # Summer time: 23:30 UTC on 1 June is 00:30 on 2 June in London, the same London day as 08:00.
    ("daily-london-day-not-utc-day", DAILY, "2026-06-01T23:30:00Z", "2026-06-02T07:00", False),
    # The night the clocks go forward (29 March 2026): 23:30 GMT on the 28th, then 00:30 GMT on the 29th.
    ("daily-across-the-clock-change", DAILY, "2026-03-28T23:30:00Z", "2026-03-29T00:30", True),
    ("weekly-first-on-its-day", MONDAYS, None, "2026-11-30T07:00", True),
    ("weekly-first-not-on-its-day", MONDAYS, None, "2026-12-01T07:00", False),
    ("weekly-same-day-again", MONDAYS, "2026-11-30T07:00:00Z", "2026-11-30T19:00", False),
    ("weekly-mid-week", MONDAYS, "2026-11-30T07:00:00Z", "2026-12-03T07:00", False),
    ("weekly-next-monday", MONDAYS, "2026-11-30T07:00:00Z", "2026-12-07T07:00", True),
    ("weekly-missed-monday-goes-tuesday", MONDAYS, "2026-11-23T07:00:00Z", "2026-12-01T07:00", True),
    ("weekly-friday-on-friday", FRIDAYS, "2026-11-20T07:00:00Z", "2026-11-27T07:00", True),
    ("weekly-friday-sent-friday-not-monday", FRIDAYS, "2026-11-27T07:00:00Z", "2026-11-30T07:00", False),
]


@pytest.mark.parametrize(
    ("subscriber", "last_sent", "now", "expected"), [d[1:] for d in DUE], ids=[d[0] for d in DUE]
)
def test_due(subscriber, last_sent, now, expected):
    assert due(subscriber, last_sent, utc(now)) is expected


def test_a_replayed_fortnight_with_an_outage_sends_each_rhythm_once_per_period_and_loses_none():
    """Runs at 07:00 and 13:00 London for two weeks from Monday 16 November 2026; the mail server is down
    from Sunday 22 November 13:00 to Tuesday 24 November 07:00. A failed send does not move last_sent."""
    outage = (utc("2026-11-22T13:00"), utc("2026-11-24T07:00"))
    sent: dict[str, list[str]] = {"immediate": [], "daily": [], "weekly": []}
    last: dict[str, datetime | None] = dict.fromkeys(sent)
    start = utc("2026-11-16T07:00")
    for run in [start + timedelta(days=d, hours=h) for d in range(14) for h in (0, 6)]:
        for subscriber in (IMMEDIATE, DAILY, MONDAYS):
            key = subscriber.frequency
            if due(subscriber, last[key], run) and not (outage[0] <= run <= outage[1]):
                sent[key].append(run.strftime("%a %d %H"))
                last[key] = run
    assert len(sent["immediate"]) == 28 - 4
    assert sent["daily"] == [f"{d} 07" for d in _days(16, 22)] + ["Tue 24 13"] + [
        f"{d} 07" for d in _days(25, 29)
    ]
    assert sent["weekly"] == ["Mon 16 07", "Tue 24 13"]


def _days(first: int, last: int) -> list[str]:
    return [datetime(2026, 11, d, tzinfo=UTC).strftime("%a %d") for d in range(first, last + 1)]
