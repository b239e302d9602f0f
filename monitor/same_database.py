"""Whether the database a run is about to use is the one its site and its lock file were made from.

A monitor database has an identity, a random id made with it (``Store.identity``), which the site's
manifest and the run lock's file keep. A ``monitor.db`` deleted, emptied or replaced beside them would
otherwise be taken for a fresh start: every page "first seen" again, mailed to every reader, and the site
rebuilt without its history. A run that finds the records of another database touches nothing and says
so, until ``guidance-monitor run --new-database`` says that this database is meant.
"""

from __future__ import annotations

from pathlib import Path

from .publish.manifest import Manifest
from .settings import Config
from .store import Store
from .store.lock import lock_path, recorded_identity

NEW_DATABASE = "`guidance-monitor run --new-database`"


class OtherDatabase(RuntimeError):
    """The site or the lock file was made from another database: the message is one plain line."""


def records(config: Config) -> list[tuple[str, str]]:
    """``(what, identity)`` for each record of a database kept beside this one: the site's manifest and
    the run lock's file, where they name one."""
    found = []
    site = Path(config.site_dir).expanduser()
    manifest = Manifest.load(site)
    if manifest is not None and manifest.database:
        found.append((f"the site in {site}", manifest.database))
    if identity := recorded_identity(lock_path(Path(config.database))):
        found.append((f"the lock file {lock_path(Path(config.database))}", identity))
    return found


def refuse_missing(config: Config) -> None:
    """Before the database is opened (and so made): a missing or empty file where a site or a lock file
    says one was is a database that vanished, not a first run."""
    path = Path(config.database)
    try:
        empty = path.stat().st_size == 0
    except FileNotFoundError:
        empty = True
    except OSError:
        return  # said in one line when the file is opened
    if empty and (found := records(config)):
        state = "is empty" if path.exists() else "is missing"
        raise OtherDatabase(
            f"{path} {state}, but {found[0][0]} was made from a database: nothing was done. Restore the "
            f"database from a backup, or run {NEW_DATABASE} to start again from an empty one (the site "
            "is then rebuilt from it)"
        )


def refuse_other(config: Config, store: Store) -> None:
    """After it is opened: a database whose identity is not the one the site or lock file names."""
    for where, identity in records(config):
        if identity != store.identity:
            raise OtherDatabase(
                f"{config.database} is not the database {where} was made from: nothing was done. Point "
                f"`database:` at that one, or run {NEW_DATABASE} to go on from this one (the site is then "
                "rebuilt from it)"
            )
