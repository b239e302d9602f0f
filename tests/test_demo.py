"""The offline demo, as a newcomer runs it: one command, a database, digests and a site."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path


def demo(out: Path) -> subprocess.CompletedProcess[str]:
    """`guidance-monitor demo --out OUT` as a newcomer runs it; it must succeed."""
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_demo_replays_the_send_timeline(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = demo(out)
    assert str(out / "site" / "index.html") in result.stdout

    db = sqlite3.connect(out / "monitor.db")
    detected = [
        day
        for (day,) in db.execute(
            "SELECT substr(detected_at, 1, 10) FROM changes WHERE backfilled = 0 ORDER BY detected_at"
        )
    ]
    # Six of the seven captures differ from the one before (the first is new); 2021-09-28 differs
    # from 2021-09-27 only in attribute order and must record nothing.
    assert detected == ["2021-02-04", "2021-02-22", "2021-05-25", "2021-09-27", "2022-02-23", "2022-02-24"]
    kinds = [k for (k,) in db.execute("SELECT kind FROM changes WHERE backfilled = 0 ORDER BY detected_at")]
    assert kinds == ["new", "major", "major", "major", "major", "major"]
    backfilled = db.execute("SELECT count(*) FROM changes WHERE backfilled = 1").fetchone()[0]
    assert backfilled == 16, "the first capture's 16 history entries become the timeline before monitoring"

    emails = sorted((out / "emails").glob("*.eml"))
    assert len(emails) == 6
    subjects = [BytesParser(policy=policy.default).parse(e.open("rb"))["Subject"] for e in emails]
    # "since" is when the page was last looked at: the unchanged 2021-09-28 check counts.
    assert subjects == [
        "Now watching 1 DfE guidance page",
        "1 DfE guidance page changed since 4 February 2021",
        "1 DfE guidance page changed since 22 February 2021",
        "1 DfE guidance page changed since 25 May 2021",
        "1 DfE guidance page changed since 28 September 2021",
        "1 DfE guidance page changed since 23 February 2022",
    ]
    last = BytesParser(policy=policy.default).parse(emails[-1].open("rb"))
    text = last.get_body(preferencelist=("plain",)).get_content()
    assert "tracing close contacts, isolation and when someone has symptoms" in text

    index = (out / "site" / "index.html").read_text()
    assert "Special schools and other specialist settings" in index
    assert "24 February 2022" in index


def test_demo_runs_again_into_the_same_folder(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    for _ in range(2):
        demo(out)
    db = sqlite3.connect(out / "monitor.db")
    assert db.execute("SELECT count(*) FROM changes WHERE backfilled = 0").fetchone()[0] == 6
