"""The ``guidance-monitor`` command. It only wires the stages together; the work is done in them.

The commands live by family: ``reading`` (parse, diff, history, show), ``watching`` (run, serve, check
and the watch list), ``publishing`` (digest, site, notify, demo, init), ``exploring`` (explore) and
``searching`` (search) and ``dates``; what they share, with the exit statuses, is in ``options``.
"""

from __future__ import annotations

import click

from .. import __version__
from . import dates, exploring, publishing, reading, searching, watching
from .options import Commands, Options, common


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guidance-monitor")
@common
@click.pass_context
def main(ctx: click.Context) -> None:
    """Watch GOV.UK guidance pages and say exactly what changed.

    Run `guidance-monitor run` daily (cron) or `guidance-monitor serve`; try `guidance-monitor demo`, or
    `guidance-monitor init` to start. --config, --verbose and --quiet go before or after the command.
    """
    ctx.ensure_object(Options)


for command in (
    *reading.COMMANDS,
    *watching.COMMANDS,
    *publishing.COMMANDS,
    exploring.explore_command,
    searching.search_command,
    dates.dates_command,
):
    main.add_command(command)
