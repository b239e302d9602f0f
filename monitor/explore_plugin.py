"""The Datasette plugin ``guidance-monitor explore`` serves with (entry point ``datasette``): SQL
functions that let the canned queries answer as the rest of the monitor does.

``page_address(text)``: the one spelling of a page's address (:func:`monitor.govuk.normalise`, against
``govuk_base_url`` from the plugin's configuration), so ``/x/``, ``HTTPS://WWW.GOV.UK/x`` and
``https://www.gov.uk/x?utm_source=y`` all find the page stored as ``https://www.gov.uk/x``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from datasette import hookimpl

from .govuk import WWW, normalise


@hookimpl  # type: ignore[untyped-decorator]  # Datasette ships no type hints
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    config = datasette.plugin_config("guidance-monitor", database=database) or {}
    base = str(config.get("govuk_base_url") or WWW)

    def page_address(text: str | None) -> str | None:
        return normalise(text, base) if text else text

    conn.create_function("page_address", 1, page_address, deterministic=True)
