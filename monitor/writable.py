"""Whether this user can write where a run writes: the database (its file and its folder, where SQLite
keeps its journal) and the site (its folder, and its parent, where a rebuild is made before it is swapped
in). ``check`` says so before a run finds out."""

from __future__ import annotations

import os
from pathlib import Path

from .settings import Config


def _nearest(path: Path) -> Path:
    """The folder a missing path would be made in: its nearest ancestor that exists."""
    for folder in path.parents:
        try:
            if folder.exists():
                return folder
        except OSError:
            continue
    return Path("/")


def _can_write(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _missing(label: str, path: Path) -> list[str]:
    """A path a run would make: its nearest folder must be writable."""
    if _can_write(folder := _nearest(path)):
        return []
    return [f"{label} {path}: cannot be made (its folder {folder} cannot be written)"]


def problems(config: Config) -> tuple[list[str], list[str]]:
    """(what stops a run writing, what a run does differently here), each in plain words."""
    stops: list[str] = []
    notes: list[str] = []
    database = Path(config.database)
    site = Path(config.site_dir).expanduser().absolute()
    try:
        present, site_present = database.exists(), site.is_dir()
    except OSError as exc:
        return [f"{exc.filename}: cannot be entered ({exc.strerror or exc})"], []
    if not present:
        stops += _missing("database", database)
    elif not os.access(database, os.W_OK):
        stops.append(f"database {database}: cannot be written by this user")
    elif not _can_write(database.parent):
        stops.append(
            f"database folder {database.parent}: cannot be written by this user (SQLite keeps its "
            "journal there)"
        )
    if not site_present:
        stops += _missing("site folder", site)
    elif not _can_write(site):
        stops.append(f"site folder {site}: cannot be written by this user")
    elif not _can_write(site.parent):
        notes.append(
            f"site folder's parent {site.parent}: cannot be written by this user, so the site is "
            "rebuilt inside its folder and changed a file at a time, not swapped in whole"
        )
    return stops, notes
