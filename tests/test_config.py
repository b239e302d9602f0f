"""config.yaml: the shipped file loads, and every kind of mistake is named in one line with exit status 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import config

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_watches_the_senco_page_and_its_old_address() -> None:
    cfg = config.load(ROOT / "config.yaml")
    urls = [p.url for p in cfg.pages]
    assert urls == [
        "/government/publications/mandatory-qualification-for-sencos",
        "/government/publications/national-award-for-sen-co-ordination-learning-outcomes",
    ]
    assert cfg.pages[0].follow_documents is True
    assert cfg.govuk_base_url == "https://www.gov.uk"
    assert cfg.schedule.timezone == "Europe/London"
    assert Path(cfg.database) == ROOT / "data" / "monitor.db"


BROKEN = [
    ("colour: blue\n", "colour: unknown key"),
    ("pages:\n  - follow_documents: true\n", "pages[0].url: missing"),
    ("pages:\n  - url: /a\n    follow_documents: 3\n", "pages[0].follow_documents: must be true or false"),
    ("fetch:\n  rate_per_host: fast\n", "fetch.rate_per_host: must be a number"),
    ("fetch:\n  concurrency: 0\n", "fetch.concurrency: must be at least 1"),
    ("fetch:\n  source: ftp\n", "fetch.source: must be html, api or auto"),
    ("pages: /a\n", "pages: must be a list"),
    ("govuk_base_url: www.gov.uk\n", "govuk_base_url: must be an http(s) address"),
    ("digest:\n  email:\n    to: nobody\n", "digest.email.to: must be a list of email addresses"),
    ("digest:\n  email:\n    password: hunter2\n", "digest.email.password: unknown key"),
    ("schedule:\n  cron: every day\n", "schedule.cron: needs five fields"),
    ("schedule:\n  timezone: Mars/Olympus\n", "schedule.timezone: unknown time zone"),
    ("pages: [\n", "not valid YAML at line"),
    ("- just\n- a list\n", "the file must be a mapping"),
    ("schedule:\n  cron: 99 7 * * *\n", "schedule.cron: '99 7 * * *' is not a valid cron expression"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN, ids=[m for _, m in BROKEN])
def test_broken_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "config.yaml"
    file.write_text(text)
    with pytest.raises(
        config.ConfigError,
        match=re.escape(message),
    ):
        config.load(file)


@pytest.mark.parametrize(("text", "message"), BROKEN[:3], ids=[m for _, m in BROKEN[:3]])
def test_cli_reports_a_broken_config_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "config.yaml"
    file.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not (tmp_path / "data").exists(), "a broken config must not create a database"


def test_config_path_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "elsewhere.yaml"
    file.write_text("database: state/x.db\npages:\n  - url: https://example.org/guide\n    selector: main\n")
    monkeypatch.setenv(config.ENV_VAR, str(file))
    cfg = config.load()
    assert cfg.database == str(tmp_path / "state" / "x.db")
    assert cfg.pages[0].url == "https://example.org/guide"
