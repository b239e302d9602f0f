"""Readers and channels from another installed package, through their entry points.

A real package is built as a wheel in a temporary folder and installed there by pip; ``guidance-monitor``
then runs in a subprocess with that folder on its path, as it would after ``pip install`` of a plugin,
against a real page server on 127.0.0.1. The package's reader is the only one that reads its content
type, and its channel is the only one configured: without the entry points, nothing is read and nothing
is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import PageServer, Response

ROOT = Path(__file__).parent.parent
PAGE = "/guidance/school-notice"

READER = '''
"""A reader for school notices, served as text/x-school-notice."""

from monitor.model import Document, ParseError, Section
from monitor.readers import Reader


class NoticeReader(Reader):
    """School notices (text/x-school-notice): a title line, then sections each opened by "## "."""

    __kind__ = "school-notice"
    priority = 15

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        return content_type.split(";", 1)[0].strip() == "text/x-school-notice"

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        title, _, rest = body.decode("utf-8").partition("\\n")
        if not title.strip():
            raise ParseError("the notice has no title line")
        sections = []
        for part in rest.split("## ")[1:]:
            heading, _, text = part.partition("\\n")
            sections.append(Section(heading.strip(), 2, " ".join(text.split())))
        return Document(url, title.strip(), page_type="school_notice", sections=sections)
'''

CHANNEL = '''
"""A channel that writes each digest to a file as a line of JSON."""

import json
from collections.abc import Mapping
from typing import Any

from monitor.deliver import Channel, DeliveryError, Digest


class FileChannel(Channel):
    """File: each digest appended to a file as one JSON line."""

    __kind__ = "jsonl-file"

    def __init__(self, options: Mapping[str, Any] | None = None, *, name: str = "") -> None:
        super().__init__(options, name=name)
        if not isinstance(self.options.get("path"), str):
            raise ValueError("path: missing (the file each digest is written to)")

    def send(self, digest: Digest, key: str = "") -> str:
        subject, text, _html = digest.rendered
        line = {"channel": self.name, "key": key, "subject": subject, "text": text}
        try:
            with open(self.options["path"], "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\\n")
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.options['path']}: {exc.strerror}") from None
        return "written"
'''

ENTRY_POINTS = """\
[guidance_monitor.readers]
school-notice = school_notices.reader:NoticeReader

[guidance_monitor.channels]
jsonl-file = school_notices.channel:FileChannel
"""

BROKEN_ENTRY_POINTS = """\
[guidance_monitor.readers]
spreadsheet = broken_plugin:SpreadsheetReader
"""


def wheel(folder: Path, name: str, modules: dict[str, str], entry_points: str) -> Path:
    """A wheel of ``modules`` declaring ``entry_points``, made as the wheel format says (PEP 427)."""
    dist = f"{name.replace('-', '_')}-1.0"
    path = folder / f"{dist}-py3-none-any.whl"
    files = {
        **{f"{module}.py": source for module, source in modules.items()},
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist}.dist-info/entry_points.txt": entry_points,
    }
    record = "".join(f"{file},,\n" for file in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for file, text in {**files, f"{dist}.dist-info/RECORD": record}.items():
            archive.writestr(file, text)
    return path


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where pip installed the plugin package, and a second package whose reader cannot load."""
    build = tmp_path_factory.mktemp("build")
    target = tmp_path_factory.mktemp("site-packages")
    wheels = [
        wheel(
            build,
            "school-notices",
            {
                "school_notices/__init__": "",
                "school_notices/reader": READER,
                "school_notices/channel": CHANNEL,
            },
            ENTRY_POINTS,
        ),
        wheel(
            build,
            "broken-plugin",
            {"broken_plugin": "import a_module_nobody_installed\n"},
            BROKEN_ENTRY_POINTS,
        ),
    ]
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        "--target",
        str(target),
    ]
    subprocess.run([*pip, *map(str, wheels)], check=True, capture_output=True, timeout=120)
    return target


def monitor(plugins: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugins), str(ROOT)])}
    command = [sys.executable, "-m", "monitor", *args, "--config", str(config)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=config.parent)


def notice(title: str, guidance: str) -> Response:
    body = f"{title}\n## Who this is for\nHeadteachers and SENCOs.\n## What to do\n{guidance}\n"
    return Response(body=body.encode(), headers={"Content-Type": "text/x-school-notice; charset=utf-8"})


def write_config(tmp_path: Path, server: PageServer, channels: list[dict[str, object]]) -> Path:
    config = tmp_path / "config.yaml"
    data = {
        "database": "monitor.db",
        "site_dir": "site",
        "govuk_base_url": server.base_url,
        "pages": [PAGE],
        "fetch": {"source": "html", "timeout": 5, "retries": 1, "rate_per_host": 100},
        "digest": {"channels": channels},
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def test_a_reader_and_a_channel_from_another_package_are_used_by_run_and_listed(
    tmp_path: Path, page_server: PageServer, plugins: Path
) -> None:
    out = tmp_path / "digests.jsonl"
    config = write_config(tmp_path, page_server, [{"kind": "jsonl-file", "name": "office", "path": str(out)}])
    page_server.routes[PAGE] = notice("Snow closure notice", "Keep the school open where it is safe.")

    first = monitor(plugins, config, "run", "--no-site")
    assert first.returncode == 0, first.stderr
    [welcome] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert welcome["channel"] == "jsonl-file:office"
    assert welcome["subject"] == "Now watching 1 GOV.UK guidance page"
    assert "Snow closure notice" in welcome["text"]
    assert "jsonl-file:office: sent 1 change (written)" in first.stdout

    page_server.routes[PAGE] = notice("Snow closure notice", "Close the school and tell parents by 7am.")
    second = monitor(plugins, config, "run", "--no-site")
    assert second.returncode == 0, second.stderr
    sent = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(sent) == 2
    changed = sent[1]
    assert "Snow closure notice" in changed["subject"]
    assert "What to do" in changed["text"]
    assert "[+Close the school and tell parents by 7am+]" in " ".join(changed["text"].split())
    assert len(changed["key"]) == 32  # the outbox's key for these changes, the same if ever resent

    third = monitor(plugins, config, "run", "--no-site")  # nothing new: nothing written
    assert third.returncode == 0, third.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2

    for result in (first, second, third):  # the broken package: one line when readers load, no traceback
        assert "Traceback" not in result.stderr
    assert first.stderr.count("broken-plugin") == second.stderr.count("broken-plugin") == 1
    assert third.stderr.count("broken-plugin") <= 1  # a run that reads no page need not load the readers
    assert (
        "guidance-monitor: the reader 'spreadsheet' from the package broken-plugin cannot be loaded "
        "(ModuleNotFoundError: No module named 'a_module_nobody_installed'); carrying on without it"
    ) in first.stderr.splitlines()

    readers = monitor(plugins, config, "parse", "--list-readers")
    assert readers.returncode == 0, readers.stderr
    listed = readers.stdout.split("\n\n")
    kinds = [block.strip().splitlines()[0] for block in listed if block.strip()]
    assert kinds[:3] == ["pdf", "school-notice", "govuk-content-api"]  # its priority puts it second
    assert (
        "(text/x-school-notice)" in readers.stdout and "(from the package school-notices)" in readers.stdout
    )

    channels = monitor(plugins, config, "notify", "--list-channels")
    assert channels.returncode == 0, channels.stderr
    listed_channels = [line for line in channels.stdout.splitlines() if line and not line.startswith(" ")]
    assert listed_channels == ["email", "folder", "notify", "webhook", "jsonl-file"]
    assert "File: each digest appended to a file as one JSON line. (from the package school-notices)" in (
        channels.stdout
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"kind": "sms"},
            "digest.channels[0].kind: no channel of kind 'sms' (available: jsonl-file)",
        ),
        ({"kind": "jsonl-file"}, "digest.channels[0]: path: missing (the file each digest is written to)"),
        (
            {"name": "x"},
            "digest.channels[0].kind: missing (the kind of channel, as the package providing it names it)",
        ),
        (
            {"kind": "webhook", "url": "https://example.org/"},
            "digest.channels[0].kind: webhook is built in and set by its own key under digest",
        ),
    ],
)
def test_a_channel_item_that_cannot_be_set_up_is_one_config_error(
    tmp_path: Path, page_server: PageServer, plugins: Path, item: dict[str, object], message: str
) -> None:
    config = write_config(tmp_path, page_server, [item])
    result = monitor(plugins, config, "run", "--no-site")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"guidance-monitor: config: {message}"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "monitor.db").exists()


def test_a_channel_from_another_package_previews_sends_by_hand_and_tests(
    tmp_path: Path, page_server: PageServer, plugins: Path
) -> None:
    out = tmp_path / "digests.jsonl"
    config = write_config(tmp_path, page_server, [{"kind": "jsonl-file", "path": str(out)}])
    page_server.routes[PAGE] = notice("Snow closure notice", "Keep the school open where it is safe.")
    found = monitor(plugins, config, "run", "--no-site", "--no-deliver")
    assert found.returncode == 0, found.stderr
    assert not out.exists()

    preview = monitor(plugins, config, "digest", "--dry-run", "--out", "preview")
    assert preview.returncode == 0, preview.stderr
    written = tmp_path / "preview" / "jsonl-file-jsonl-file.txt"  # it defines no preview: the text one
    assert written.read_text(encoding="utf-8").startswith("Now watching 1 GOV.UK guidance page\n\n")
    assert "Snow closure notice" in written.read_text(encoding="utf-8")
    assert not out.exists()

    sent = monitor(plugins, config, "digest")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == "jsonl-file: sent 1 change (written)\n"
    assert json.loads(out.read_text(encoding="utf-8"))["subject"] == "Now watching 1 GOV.UK guidance page"
    assert monitor(plugins, config, "digest").stdout == "Nothing to send.\n"

    tested = monitor(plugins, config, "notify", "--test")
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout == "jsonl-file: sent (written)\n"
    last = json.loads(out.read_text(encoding="utf-8").splitlines()[-1])
    assert last["channel"] == "jsonl-file" and last["key"] == "test"
