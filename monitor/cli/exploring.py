"""``explore``: the database in Datasette, read-only."""

from __future__ import annotations

from typing import Any

import click

from .options import EXIT_FAILED, common, fail, load_config, options, reason


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
    import asyncio
    import importlib.util
    import json
    import socket
    from pathlib import Path

    config = load_config()
    database = Path(config.database)
    metadata = explore_metadata(database.stem)
    if metadata_out:
        try:
            Path(metadata_out).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"--metadata {metadata_out}: cannot be written ({reason(exc)})", EXIT_FAILED)
        click.echo(f"Wrote {metadata_out}")
        return
    if importlib.util.find_spec("datasette") is None:
        fail("explore needs Datasette: pip install 'guidance-monitor[explore]'")
    if not database.exists():
        fail(f"no database yet at {database}: `guidance-monitor run` creates it")
    try:
        with socket.create_server((host, port)):
            pass  # free: Datasette takes it next (a taken port is one line here, not a server's traceback)
    except OSError as exc:
        fail(f"--host {host} --port {port}: cannot listen there ({reason(exc)})")
    import uvicorn
    from datasette.app import Datasette

    # In this process, not a child one: a signal that stops explore stops the server with it.
    datasette = Datasette(
        immutables=[str(database)],
        metadata=metadata,
        settings={"base_url": base_url if base_url.endswith("/") else base_url + "/"},
    )
    asyncio.run(datasette.invoke_startup())
    if not options().quiet:
        address = f"http://{host}:{port}{base_url}"
        click.echo(f"Serving {database} read-only on {address} (Ctrl-C stops)", err=True)
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")


def explore_metadata(database: str) -> dict[str, Any]:
    """Datasette's metadata for the database named ``database``: the store's own words for each table and
    column, and its canned queries."""
    from ..store import EXPLORE_QUERIES, EXPLORE_TABLES

    tables = {
        name: {"description": description, "columns": columns}
        for name, (description, columns) in EXPLORE_TABLES.items()
    }
    queries = {
        name: {"title": title, "description": description, "sql": sql}
        for name, (title, description, sql) in EXPLORE_QUERIES.items()
    }
    return {
        "title": "guidance-monitor",
        "description": "Every check, version and change of the GOV.UK guidance pages watched. Times are UTC.",
        "databases": {database: {"tables": tables, "queries": queries}},
    }
