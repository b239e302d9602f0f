"""The evidence for a recorded change: when it was detected, where, what exactly was fetched before and
after, and where an independent copy is kept, so a reader can cite the change and anyone can check it.

One function builds these facts; the change's page on the site and ``guidance-monitor show CHANGE_ID
--format json`` both show what it returns, so the two never disagree.
"""

from __future__ import annotations

from typing import Any

from ..clock import LONDON, parse_timestamp, utc_timestamp
from ..govuk import is_govuk_page, normalise
from ..model import Change

WEB_ARCHIVE = "https://webarchive.nationalarchives.gov.uk/ukgwa"
"""The UK Government Web Archive, which keeps dated copies of GOV.UK: given a moment and an address, it
answers with its copy nearest that moment."""

HASH_NOTE = (
    "Each SHA-256 is of the body exactly as it was fetched from GOV.UK (the HTML page, or the Content "
    "API's JSON), recorded when it was fetched: anyone holding a copy can check it is the same"
)
"""What the digests are of, said once for the page and the JSON."""


def web_archive_url(address: str, moment: str) -> str:
    """The Web Archive's copy of ``address`` nearest ``moment`` (a UTC timestamp): built, never fetched."""
    stamp = parse_timestamp(moment).strftime("%Y%m%d%H%M%S")
    return f"{WEB_ARCHIVE}/{stamp}/{address}"


def snapshot_path(snapshot_id: int) -> str:
    """Where a stored snapshot's page is on the site."""
    return f"snapshots/{snapshot_id}.html"


def change_evidence(
    change: Change,
    *,
    old_sha256: str | None,
    new_sha256: str | None,
    site_url: str = "",
    title: str = "",
) -> dict[str, Any]:
    """The facts that prove a change, for its page and for ``show --format json``.

    ``old_sha256`` and ``new_sha256`` are the stored digests of the bodies the two snapshots were read
    from (None where no snapshot or body was kept: a page first seen has no "before"). Snapshot pages
    are given relative to the site's root, and as full addresses when ``site_url`` is known.
    """
    detected = parse_timestamp(change.detected_at)
    london = detected.astimezone(LONDON)
    address = normalise(change.page_url)  # a GOV.UK page as GOV.UK spells it, over https
    site = site_url.rstrip("/")

    def snapshot(snapshot_id: int | None) -> dict[str, Any] | None:
        if snapshot_id is None:
            return None
        path = snapshot_path(snapshot_id)
        return {"id": snapshot_id, "path": path, "url": f"{site}/{path}" if site else None}

    detected_text = f"{london.day} {london:%B %Y}, {london:%H:%M} {london:%Z}"
    named = f"“{title}”, " if title else ""
    where = "GOV.UK, " if is_govuk_page(address) else ""
    citation = f"{named}{where}{address}, change detected {detected_text}"
    if new_sha256:
        citation += f" (page as fetched: SHA-256 {new_sha256})"
    citation += "."
    return {
        "detected_at": utc_timestamp(detected),
        "detected_at_london": london.isoformat(),
        "detected_text": detected_text,
        "address": address,
        "old_sha256": old_sha256,
        "new_sha256": new_sha256,
        "sha256_of": HASH_NOTE,
        "old_snapshot": snapshot(change.old_snapshot_id),
        "new_snapshot": snapshot(change.new_snapshot_id),
        "web_archive": web_archive_url(address, change.detected_at),
        "citation": citation,
    }
