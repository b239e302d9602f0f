"""``search``: where a phrase appeared in, or went from, the pages watched."""

from __future__ import annotations

import json

import click

from .options import EXIT_FAILED, common, existing_store, fail, format_option, load_config


@click.command("search")
@click.argument("phrase")
@format_option
@common
def search_command(phrase: str, output: str) -> None:
    """List the pages and days where PHRASE appeared in, or went from, a stored version of a page.

    Every version ever stored is searched (case and accents ignored, the words in that order). Exit
    status 0 when the phrase was found, 1 when it is in no stored version.
    """
    from ..search import as_text, phrase_events

    if not phrase.strip():
        fail("PHRASE: give the words to look for")
    with existing_store(load_config()) as store:
        events = phrase_events(store, phrase)
    if output == "json":
        click.echo(json.dumps([e.to_dict() for e in events], ensure_ascii=False, indent=2))
    else:
        click.echo(as_text(phrase, events))
    if not events:
        raise SystemExit(EXIT_FAILED)
