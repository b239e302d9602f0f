"""The ``guidance-monitor`` command. It only wires the stages together; the work is done in them.

Exit statuses are a contract with cron jobs and scripts: 0 done, 1 something failed (or, for ``diff``,
something changed), 2 a usage or configuration error, 3 another run holds the lock.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from . import __version__
from . import config as config_module
from .model import Config, Document

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Print one plain line to stderr and exit: never a traceback for input we can name."""
    click.echo(f"guidance-monitor: {message}", err=True)
    sys.exit(status)


def load_config(path: str | None) -> Config:
    try:
        return config_module.load(path)
    except config_module.ConfigError as exc:
        fail(f"config: {exc}")


config_option = click.option(
    "--config",
    "config_path",
    metavar="FILE",
    default=None,
    help="Configuration file (default: $GUIDANCE_MONITOR_CONFIG, else ./config.yaml).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guidance-monitor")
def main() -> None:
    """Watch GOV.UK guidance pages and say exactly what changed.

    Run `guidance-monitor run` daily (cron) or `guidance-monitor serve`; try `guidance-monitor demo`.
    """


# Sub-commands are added below, one block per stage they drive. Keep each block small: the work belongs
# in the stage modules, not here.


# --------------------------------------------------------------------------- diff


def _read_document(path: str) -> Document:
    """Read and parse one capture for ``diff``; any failure is one line naming the file."""
    from pathlib import Path

    from .model import ParseError
    from .parse import parse

    file = Path(path)
    try:
        body = file.read_bytes()
    except OSError as exc:
        fail(f"{path}: cannot be read ({exc.strerror or exc})")
    try:
        return parse(body, file.resolve().as_uri())
    except ParseError as exc:
        fail(f"{path}: cannot be parsed ({exc})")


@main.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option(
    "--format", "output", type=click.Choice(["text", "json", "html"]), default="text", show_default=True
)
def diff_command(old: str, new: str, output: str) -> None:
    """Say what changed between two captures of a page (HTML, Content API JSON or mirrored text).

    Exit status 0 when nothing changed, 1 when something did, 2 on error, as diff(1) does.
    """
    import json

    from . import diff as diff_module

    changes = diff_module.diff(_read_document(old), _read_document(new))
    if output == "json":
        click.echo(json.dumps(changes.to_dict(), ensure_ascii=False, indent=2))
    elif output == "html":
        click.echo(diff_module.html_report(changes, old_name=old, new_name=new), nl=False)
    else:
        click.echo(diff_module.text_report(changes), nl=False)
    sys.exit(EXIT_FAILED if changes.changed else EXIT_OK)
