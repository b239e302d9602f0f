"""``explore``: the database in Datasette, read-only."""

from __future__ import annotations

import click

from .options import EXIT_FAILED, EXIT_USAGE, common, fail, load_config, options


@click.command("explore")
@click.option("--host", metavar="ADDRESS", default="127.0.0.1", show_default=True, help="Listen on.")
@click.option("--port", metavar="PORT", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option(
    "--base-url", default="/", show_default=True, help="The path it is served under, behind a proxy."
)
@click.option(
    "--metadata",
    "metadata_out",
    metavar="FILE",
    help="Write Datasette's metadata (descriptions, canned queries) to FILE and exit, for `datasette "
    "publish`.",
)
@common
def explore_command(host: str, port: int, base_url: str, metadata_out: str | None) -> None:
    """Explore the database in Datasette (pip install 'guidance-monitor[explore]'), read-only.

    Every table and column is described, and canned queries answer the usual questions: changes this
    week, silent edits, pages that could not be checked, the text of a page on a date. The file is opened
    immutable: restart it after a run to see the run's changes.
    """
    from .. import explore

    try:
        explore.serve(
            load_config().database,
            host=host,
            port=port,
            base_url=base_url,
            metadata_out=metadata_out,
            quiet=options().quiet,
        )
    except explore.ExploreError as exc:
        fail(str(exc), EXIT_USAGE if exc.usage else EXIT_FAILED)
