"""``check`` refuses exactly what ``add`` and ``run`` refuse: a page outside GOV.UK without a selector, and
a selector that is not CSS, each in the same one line, exit 2, before anything is fetched or stored."""

from __future__ import annotations

import pytest
import yaml
from run_support import run_cli


@pytest.mark.parametrize(
    ("page", "said", "add_args", "add_said"),
    [
        (
            "https://example.org/guide",
            "https://example.org/guide: not a GOV.UK page: give pages[0].selector CSS, the element that "
            "holds its text",
            ["https://example.org/guide"],
            "https://example.org/guide: not a GOV.UK page: give --selector CSS, the element that holds "
            "its text",
        ),
        (
            {"url": "https://example.org/guide", "selector": "div[[["},
            "pages[0].selector 'div[[[': not a CSS selector",
            ["https://example.org/guide", "--selector", "div[[["],
            "--selector 'div[[[': not a CSS selector",
        ),
    ],
)
def test_check_run_and_add_refuse_the_same_page_in_one_line(tmp_path, page, said, add_args, add_said):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": "monitor.db", "pages": [page]}), encoding="utf-8")
    lines = []
    for command in ("check", "run"):
        result = run_cli(config, command)
        assert result.returncode == 2, (command, result.stderr)
        [line] = result.stderr.splitlines()
        assert line.startswith(f"guidance-monitor: config: {said}"), line
        lines.append(line)
    assert lines[0] == lines[1]
    assert not (tmp_path / "monitor.db").exists()

    empty = tmp_path / "empty.yaml"
    empty.write_text("database: monitor.db\n", encoding="utf-8")
    added = run_cli(empty, "add", *add_args)
    assert added.returncode == 2
    [line] = added.stderr.splitlines()
    assert line.startswith(f"guidance-monitor: {add_said}"), line


def test_a_page_outside_gov_uk_with_a_selector_is_valid(tmp_path):
    config = tmp_path / "config.yaml"
    page = {"url": "https://example.org/guide", "selector": "main article"}
    config.write_text(yaml.safe_dump({"database": "monitor.db", "pages": [page]}), encoding="utf-8")
    result = run_cli(config, "check")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
