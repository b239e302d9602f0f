"""guidance-monitor: watch GOV.UK guidance pages and say exactly what changed."""

from pathlib import Path

__version__ = "0.1.0"

_HERE = Path(__file__).resolve().parent


def _bundled(installed: str, source: str) -> Path:
    """Find a resource folder both in an installed package and in a source checkout."""
    inside = _HERE / installed
    return inside if inside.is_dir() else _HERE.parent / source


TEMPLATES_DIR = _bundled("templates", "templates")
SAMPLES_DIR = _bundled("data", "data/samples")
