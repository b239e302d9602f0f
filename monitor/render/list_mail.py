"""The words that make a digest proper list mail: the headers mail programs read (``List-Id``,
``Auto-Submitted``, ``List-Unsubscribe`` and, for one-click unsubscribe, ``List-Unsubscribe-Post``) and
the footer that tells a reader why they get the message and how to stop it.

Pure: settings and a subscriber in, text out. Large mailboxes (Gmail, Yahoo) ask bulk senders for
one-click unsubscribe (RFC 8058) and treat mail without these headers as suspect; a reader who cannot
find how to stop a message marks it as spam instead. Every value passes through :func:`header`, so
nothing from a configuration file can break a header line or hide text in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import quote

from ..settings import Subscriber
from .labels import plural
from .plain_text import header

LIST_NAME = "GOV.UK guidance changes"
"""The list's name as mail programs show it beside ``List-Id``."""
ONE_CLICK = "List-Unsubscribe=One-Click"
"""The body a mail program POSTs to the unsubscribe address (RFC 8058), and the header that says so."""


@dataclass(frozen=True)
class ListMail:
    """Where unsubscribe requests go: ``digest.email.unsubscribe`` (or ``from``) by email, and
    ``digest.unsubscribe_url`` for one-click requests, ``{email}`` in it standing for the subscriber."""

    sender: str
    unsubscribe: str = ""
    unsubscribe_url: str = ""

    @property
    def mailbox(self) -> str:
        """The address that takes unsubscribe requests (without the sender's display name)."""
        return parseaddr(self.unsubscribe or self.sender)[1] or "postmaster@localhost"

    def one_click(self, address: str) -> str:
        """The one-click address for one subscriber: ``{email}`` replaced, else an ``email`` parameter."""
        if not self.unsubscribe_url:
            return ""
        wanted = quote(address, safe="@")
        if "{email}" in self.unsubscribe_url:
            return self.unsubscribe_url.replace("{email}", wanted)
        joiner = "&" if "?" in self.unsubscribe_url else "?"
        return f"{self.unsubscribe_url}{joiner}email={wanted}"


def list_id(sender: str) -> str:
    """``GOV.UK guidance changes <guidance-monitor.school.example>``: the list named under the sender's
    domain, as RFC 2919 asks, so two installations' lists are never one."""
    domain = parseaddr(sender)[1].rpartition("@")[2].lower()
    domain = ".".join(p for p in re.split(r"[^a-z0-9-]+", domain) if p) or "localhost"
    return f"{LIST_NAME} <guidance-monitor.{domain}>"


def list_headers(settings: ListMail, subscriber: Subscriber | None) -> dict[str, str]:
    """The list headers of one digest. One-click unsubscribe names one subscriber, so it is offered to
    subscribers only; ``digest.email.to`` gets the mailto alone."""
    targets = [f"<mailto:{settings.mailbox}?subject=unsubscribe>"]
    named = subscriber is not None and subscriber.to and subscriber.channel != Subscriber.channel
    one_click = settings.one_click(subscriber.to[0]) if named and subscriber is not None else ""
    if one_click:
        targets.append(f"<{one_click}>")
    found = {
        "List-Id": list_id(settings.sender),
        "Auto-Submitted": "auto-generated",
        "List-Unsubscribe": ", ".join(targets),
    }
    if one_click:
        found["List-Unsubscribe-Post"] = ONE_CLICK
    return {name: header(value, 998) for name, value in found.items()}


RHYTHMS = {
    "immediate": "as soon as a run finds a change",
    "daily": "at most once a day",
    "weekly": "once a week",
}


def footer(settings: ListMail, subscriber: Subscriber | None) -> str:
    """Why the reader gets this message and how to stop it, in a sentence or two."""
    if subscriber is None or subscriber.channel == Subscriber.channel:
        return (
            "You get this because your address is on this guidance-monitor's list for every change. "
            f"To stop, write to {settings.mailbox} and ask to be taken off it."
        )
    chosen = [
        plural(len(subscriber.pages), "page") if subscriber.pages else "",
        plural(len(subscriber.searches), "search", "searches") if subscriber.searches else "",
    ]
    what = " and ".join(c for c in chosen if c) or "every watched GOV.UK page"
    if subscriber.signals:
        what += f" (only changes tagged {' or '.join(subscriber.signals)})"
    when = RHYTHMS[subscriber.frequency]
    if subscriber.frequency == "weekly":
        when += f", on {subscriber.day.capitalize()}s"
    how = "use your mail program's Unsubscribe button or " if settings.unsubscribe_url else ""
    return (
        f"You get this because {', '.join(subscriber.to)} subscribed to changes to {what}, {when}. "
        f"To stop, {how}write to {settings.mailbox} and ask to unsubscribe."
    )
