"""What every command shares: the options that may come before or after it, the exit statuses, and one
line of plain words for each mistake.

Exit statuses are a contract with cron jobs and scripts: 0 done, 1 something failed (or, for ``diff``,
something changed), 2 a usage or configuration error, 3 another run holds the lock.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import config as config_module
from ..model import PageState
from ..settings import Config

if TYPE_CHECKING:
    from ..store import Store

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Print one plain line to stderr and exit: never a traceback for input we can name."""
    click.echo(f"guidance-monitor: {message}", err=True)
    sys.exit(status)


def reason(exc: OSError) -> str:
    """An OSError in words, without Python's ``[Errno 30]``."""
    return exc.strerror or str(exc)


@dataclass
class Options:
    """The options that may come before or after the sub-command (``guidance-monitor --config F run`` and
    ``guidance-monitor run --config F`` are the same). A ``--config`` after the sub-command wins over one
    before it; ``--verbose`` with ``--quiet`` is refused."""

    config_path: str | None = None
    verbose: bool = False
    quiet: bool = False


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    if value not in (None, False):
        setattr(ctx.ensure_object(Options), str(param.name), value)
    return value


GLOBAL_OPTIONS = (
    click.option(
        "--config",
        "config_path",
        metavar="FILE",
        expose_value=False,
        is_eager=True,
        callback=_remember,
        help="Configuration file (default: $GUIDANCE_MONITOR_CONFIG, else ./config.yaml).",
    ),
    click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_remember,
        help="Say more: each fetch with its status, size and time.",
    ),
    click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_remember,
        help="Say only what went wrong.",
    ),
)


def common(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a sub-command the global options too, so they may follow it."""
    for option in reversed(GLOBAL_OPTIONS):
        command = option(command)
    return command


def options() -> Options:
    options = click.get_current_context().ensure_object(Options)
    if options.verbose and options.quiet:
        fail("--verbose and --quiet: choose one")
    return options


def load_config(path: str | None = None) -> Config:
    """The configuration: ``path``, else ``--config`` wherever it was given, else the default file."""
    try:
        return config_module.load(path or options().config_path)
    except config_module.ConfigError as exc:
        fail(f"config: {exc}")


class Day(click.DateTime):
    """A day given as YYYY-MM-DD; anything else is one line naming the option, as every usage error is."""

    name = "day"

    def __init__(self) -> None:
        super().__init__(formats=["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        try:
            day: datetime = super().convert(value.strip(), param, ctx)
        except click.BadParameter:
            option = param.opts[0] if param is not None else "date"
            fail(f"{option}: not a date in the form YYYY-MM-DD: {value!r}")
        return day.date()


format_option = click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def open_store(config: Config) -> Store:
    """The database, created when it is missing; one that cannot be opened is one line."""
    from ..store import Store, StoreError

    try:
        return Store(config.database)
    except StoreError as exc:
        fail(f"database: {exc}")


def existing_store(config: Config) -> Store:
    """The database, for commands that only read it: one line, not an empty new file, when it is missing."""
    if not Path(config.database).exists():
        fail(f"no database yet at {config.database}: `guidance-monitor run` creates it")
    return open_store(config)


def watched_page(store: Store, url: str) -> PageState:
    page = store.page(url)
    if page is None:
        fail(f"{url}: not a watched page (see `guidance-monitor pages`)")
    return page


def out_folder(out_dir: str, option: str = "--out") -> Path:
    """A folder to write into: a file of that name is a usage error, said in one line."""
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        fail(f"{option} {out_dir}: is a file, not a folder")
    return path
