"""``guidance-monitor dates``: the dates to act on in the watched guidance, from the current text of every
watched page and followed document."""

from __future__ import annotations

from datetime import date

import click

from .. import config as config_module
from .options import Day, common, existing_store, load_config, watched_page


@click.command("dates")
@click.option(
    "--from",
    "from_day",
    type=Day(),
    metavar="YYYY-MM-DD",
    help="Count upcoming dates from this day (default: today, UK time).",
)
@click.option("--page", "page_url", metavar="URL", help="Only this watched page's dates.")
@click.option(
    "--format", "output", type=click.Choice(["text", "json", "ics"]), default="text", show_default=True
)
@click.option(
    "--all", "every", is_flag=True, help="Also the dates already past, and those with no calendar day."
)
@common
def dates_command(from_day: date | None, page_url: str | None, output: str, every: bool) -> None:
    """List the dates the watched guidance gives to act on (deadlines, starts, ends), upcoming first,
    each with its sentence, its section and a link to it on GOV.UK; with --all, past ones too.
    --format ics prints the calendar the site publishes as dates.ics (every date, moved and cancelled
    ones included)."""
    import json

    from ..clock import london_day, utc_now
    from ..deadlines import listing
    from ..publish.dates import followed_dates
    from ..render.dates import calendar_ics, dates_json, dates_text
    from ..store.dates import DateReads

    config = load_config()
    url = config_module.absolute_url(config, page_url) if page_url else None
    since = from_day.isoformat() if from_day else london_day(utc_now()) or ""
    with existing_store(config) as store:
        if url is not None:
            watched_page(store, url)
        reads = DateReads(store)
        titles = reads.titles()
        if output == "ics":
            events = followed_dates(store, url)
            click.echo(calendar_ics(events, titles, site_url=config.digest.site_url), nl=False)
            return
        found = listing(reads.current(url), since, every=every)
    if output == "json":
        click.echo(json.dumps(dates_json(found, titles), ensure_ascii=False, indent=2))
    else:
        click.echo(dates_text(found, titles, since=since), nl=False)
