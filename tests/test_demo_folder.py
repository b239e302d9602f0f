"""``demo --out DIR`` fills only a new, empty or earlier demo's folder: any other is refused in one line,
exit 2, and left byte for byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_demo

from monitor.store import Store


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "made",
    [
        "a real database",  # the case the issue met: a monitor.db holding real changes
        "a configuration",
        "a site",
        "another file",
    ],
)
def test_a_folder_that_is_not_an_earlier_demo_is_refused_and_untouched(tmp_path, made):
    out = tmp_path / "work"
    out.mkdir()
    if made == "a real database":
        with Store(out / "monitor.db") as store:
            store.upsert_page("https://www.gov.uk/guidance/real", title="Real", source="cli")
    elif made == "a configuration":
        (out / "config.yaml").write_text("database: monitor.db\npages: [/guidance/x]\n", encoding="utf-8")
    elif made == "a site":
        (out / "site").mkdir()
        (out / "site" / "index.html").write_text("<h1>Our site</h1>\n", encoding="utf-8")
        (out / "config.yaml").write_text("site_dir: site\n", encoding="utf-8")
    else:
        (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = contents(out)
    result = run_demo(out)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"guidance-monitor: demo: {out}") and "--out" in line
    assert result.stdout == ""
    assert contents(out) == before
