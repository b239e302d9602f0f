"""Every count is written through the one plural helper: never "1 pages", "1 changes" or "1 sections".

Two checks. A static one reads the source and the templates for a number put before a hard-coded plural
noun, or a plural made by hand (``"s" if n != 1``). A real one runs the commands, builds the site and
writes the digests for a watch list with exactly one of each thing, and again with two, and reads every
line that came out.
"""

from __future__ import annotations

import ast
import email
import email.policy
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import main
from monitor.plurals import plural
from monitor.store import Store

ROOT = Path(__file__).resolve().parent.parent

NOUNS = (
    "attachments bytes changes channels checks days documents entries errors failures files hours items"
    " lines links messages minutes months notes organisations pages people recipients results runs"
    " searches sections snapshots subscribers tries updates versions webhooks weeks words years"
).split()
"""The things guidance-monitor counts, as their plurals."""

ONE_OF_MANY = re.compile(
    rf"(?<![\d.,])\b1 (?:(?!(?:of|in|and|or|to|from)\b)[A-Za-z.]+ ){{0,2}}({'|'.join(NOUNS)})\b"
)
"""A count of one before a plural noun: "1 pages", "1 more words", "1 GOV.UK guidance pages"."""

NOT_NOUNS = set(
    "is was has does as its this plus us always unless less yes goes says means needs gives holds lists"
    " keeps reads tells shows names sends makes takes puts stays comes seems exists".split()
)
BETWEEN = set("of in and or to from for by on at the a an its their already".split())


def _number_then_plural(text: str) -> str | None:
    """The plural noun a formatted value is followed by, if the text after it starts with one."""
    match = re.match(r" ((?:[a-z]+ ){0,2}?)([a-z]+s)\b", text)
    if match is None or match.group(2) in NOT_NOUNS:
        return None
    if any(word in BETWEEN for word in match.group(1).split()):
        return None
    return match.group(2)


def _hand_made(node: ast.IfExp) -> bool:
    """``"s" if n != 1 else ""`` or ``"page" if n == 1 else "pages"``: a count's plural written out by
    hand. (A noun chosen by "more than one", as in "its documents", counts nothing and is left alone.)"""
    branches = [node.body, node.orelse]
    if not all(isinstance(b, ast.Constant) and isinstance(b.value, str) for b in branches):
        return False
    one, other = sorted(str(b.value) for b in branches if isinstance(b, ast.Constant))
    test = node.test
    counted = (
        isinstance(test, ast.Compare)
        and isinstance(test.ops[0], ast.Eq | ast.NotEq)
        and any(isinstance(c, ast.Constant) and c.value == 1 for c in [test.left, *test.comparators])
    )
    return counted and other in (one + "s", one + "es", "s")


def python_offences(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            for before, after in zip(node.values, node.values[1:], strict=False):
                if isinstance(before, ast.FormattedValue) and isinstance(after, ast.Constant):
                    noun = _number_then_plural(str(after.value))
                    if noun:
                        found.append(f"{name}:{node.lineno}: {{{ast.unparse(before.value)}}} {noun}")
        elif isinstance(node, ast.IfExp) and _hand_made(node):
            found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = re.search(rf"%[sd] ({'|'.join(NOUNS)})\b", node.value)
            if match:
                found.append(f"{name}:{node.lineno}: {node.value!r}")
    return found


TEMPLATE_COUNT = re.compile(rf"""(?:\}}\}}\s+|~ *["'] )(?:[a-z]+ ){{0,2}}?({"|".join(NOUNS)})\b""")
"""A number printed (``{{ n }} pages``) or joined (``n ~ " pages"``) before a plural noun."""
TEMPLATE_HAND_MADE = re.compile(r"""["'][a-z ]*["'] if [^%}]*[!=]= 1 else ["'][a-z ]*["']""")


def template_offences(text: str, name: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        found += [f"{name}:{number}: {m.group(0)}" for m in TEMPLATE_COUNT.finditer(line)]
        found += [f"{name}:{number}: {m.group(0)}" for m in TEMPLATE_HAND_MADE.finditer(line)]
    return found


def test_the_static_check_sees_each_way_of_getting_it_wrong():
    wrong = [
        'f"{len(pages)} pages to watch"',
        'f"{n} more words"',
        """f"{n} GOV.UK page{'s' if n != 1 else ''}\"""",
        '"page" if count == 1 else "pages"',
        'log.info("search %s: %d results", name, n)',
    ]
    assert all(python_offences(code, "x") for code in wrong), [
        c for c in wrong if not python_offences(c, "x")
    ]
    right = ["f\"{plural(n, 'page')} to watch\"", 'f"{title} has changes"', "f\"{n} of {plural(m, 'page')}\""]
    assert not any(python_offences(code, "x") for code in right)
    assert template_offences("{{ n }} sections changed", "t")
    assert template_offences('{{ n }} {{ "run" if n == 1 else "runs" }}', "t")
    assert template_offences('(n ~ (" section" if n == 1 else " sections"))', "t")
    assert not template_offences('{{ n|plural("section") }} changed', "t")
    assert ONE_OF_MANY.search("Now watching 1 GOV.UK guidance pages")
    assert ONE_OF_MANY.search("(1 more words)") and ONE_OF_MANY.search("Checked 1 pages: 1 changed")
    assert ONE_OF_MANY.search("(+1 -1 words)")
    assert not ONE_OF_MANY.search("Checked 1 of 2 pages") and not ONE_OF_MANY.search("11 pages, 2.1 words")


def test_no_number_comes_before_a_hard_coded_plural_in_the_source_or_templates():
    offences = []
    for path in sorted((ROOT / "monitor").rglob("*.py")):
        offences += python_offences(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "templates").iterdir()):
        if path.suffix in (".html", ".txt", ".xml"):
            offences += template_offences(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert offences == []


@pytest.mark.parametrize(("count", "said"), [(0, "0 pages"), (1, "1 page"), (2, "2 pages")])
def test_plural_agrees_with_its_count(count, said):
    assert plural(count, "page") == said


# --------------------------------------------------------------------------- what the commands say


def publication(number: int, count: int, version: int) -> bytes:
    """A GOV.UK publication as the Content API gives it, with ``count`` of each thing (sections,
    attachments of ``number + 1`` pages, history entries); each version adds one word to each section,
    one history entry and a new file for each attachment."""
    files = [
        {
            "id": f"a{k}",
            "attachment_type": "file",
            "title": f"Form {k}",
            "url": f"https://assets.publishing.service.gov.uk/media/{number}{k}/form-{k}-v{version}.pdf",
            "content_type": "application/pdf",
            "file_size": 2000 * version,
            "number_of_pages": count,
        }
        for k in range(count)
    ]
    word = " now" * (version - 1)
    body = "".join(f"<h2>Part {k}</h2><p>Schools must send form {k}{word}.</p>" for k in range(count))
    history = [
        {
            "public_timestamp": f"2024-0{h + 1}-0{h + 1}T10:00:00Z",
            "note": f"Change {h} to publication {number}.",
        }
        for h in reversed(range(count + version - 1))
    ]
    item = {
        "base_path": f"/government/publications/p{number}",
        "schema_name": "publication",
        "document_type": "guidance",
        "title": f"Publication {number}",
        "description": "What schools send.",
        "first_public_at": "2024-01-01T10:00:00Z",
        "public_updated_at": history[0]["public_timestamp"],
        "details": {
            "body": body,
            "change_history": history,
            "attachments": files,
            "featured_attachments": [f["id"] for f in files],
        },
        "links": {
            "organisations": [
                {"title": "Department for Education", "base_path": "/government/organisations/dfe"}
            ]
        },
    }
    return json.dumps(item).encode()


def readable(path: Path) -> str:
    """A file as a person reads it: an email's parts decoded, anything else as text."""
    if path.suffix != ".eml":
        return path.read_text(encoding="utf-8", errors="replace")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


@pytest.mark.parametrize("count", [1, 2])
def test_no_output_counts_one_thing_as_many(tmp_path, page_server, count):
    """Commands, site and digests for a watch list with ``count`` of each thing: pages, sections,
    attachments, updates, words added, changes, failed runs and failing pages."""
    from conftest import Response

    paths = [f"/government/publications/p{n}" for n in range(count)]
    config = tmp_path / "config.yaml"
    settings = {"source": "api", "timeout": 2, "retries": 1, "rate_per_host": 200, "alert_after_failures": 1}
    email_settings = {"to": ["team@example.org"], "smtp_host": "127.0.0.1", "smtp_port": 9}
    data = {
        "database": "monitor.db",
        "site_dir": "site",
        "govuk_base_url": page_server.base_url,
        "pages": paths,
        "fetch": settings,
        "digest": {
            "email": email_settings,
            "webhooks": [
                {"url": "http://127.0.0.1:9/hook", "format": kind} for kind in ("slack", "teams", "json")
            ],
            "site_url": "https://changes.example.org",
        },
    }
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    outputs: dict[str, str] = {}

    def command(*args: str) -> None:
        result = CliRunner().invoke(main, [*args, "--config", str(config)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        outputs[f"{len(outputs)}: {' '.join(args)}"] = result.output + result.stderr

    def serve(version: int | None) -> None:
        for n, path in enumerate(paths):
            body = publication(n, count, version) if version else b""
            answer = Response(
                status=200 if version else 500, body=body, headers={"Content-Type": "application/json"}
            )
            page_server.routes["/api/content" + path] = answer

    command("check")
    for version, run in ((1, "first"), (2, "second"), (None, "failed"), (None, "failed again")):
        serve(version)
        command("--verbose", "run", "--no-deliver")
        command("digest", "--dry-run", "--out", str(tmp_path / f"digest {run}"))
        if count == 1 and run == "failed":
            break  # one failed run
    command("check", "--online")
    command("pages")
    command("digest", "--since", "2020-01-01", "--out", str(tmp_path / "digest since"))
    command("site", "--out", str(tmp_path / "rebuilt"))
    for path in paths:
        command("history", path)
    with Store(tmp_path / "monitor.db") as store:
        ids = [c.id for c in store.changes(include_backfilled=False)]
    for change_id in ids:
        command("show", str(change_id))

    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_bytes(publication(0, count, 1))
    new.write_bytes(publication(0, count, 2).replace(b"now", b"now " + b"more " * (40 + count - 1), 1))
    command("parse", str(new), "--format", "text")
    for output in ("text", "html"):
        command("diff", str(old), str(new), "--format", output)

    files = [
        p
        for p in tmp_path.rglob("*")
        if p.is_file() and p.suffix in (".html", ".xml", ".txt", ".eml", ".json")
    ]
    assert {p.suffix for p in files} == {".html", ".xml", ".eml", ".json"}, files
    assert any(p.parent.name == "changes" for p in files) and any(
        p.parent.name == "digest since" for p in files
    )
    said = {**outputs, **{str(p.relative_to(tmp_path)): readable(p) for p in files}}
    wrong = {
        name: match.group(0) for name, text in said.items() for match in [ONE_OF_MANY.search(text)] if match
    }
    assert wrong == {}
    counted = "\n".join(said.values())
    one, many = ("1 page", "1 change") if count == 1 else ("2 pages", "2 changes")
    assert one in counted and many in counted
