"""The acceptance point on backfill: the first run on the SENCO seed's page creates five backfilled timeline
entries, and no email is sent about them."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from conftest import FIXTURES, Response
from run_support import open_store
from test_deliver import MailServer, free_port, parts

from monitor.cli import main

SEED = (FIXTURES / "seed-govwire-mandatory-qualification-for-sencos.txt").read_bytes()
SENCO = "/government/publications/mandatory-qualification-for-sencos"
NOTES = [
    "Updated 'Transition to national professional qualification for special educational needs co-ordinators' "
    "to reflect the fact that further details of the NPQ for SENCOs are available.",
    "Clarified information about which qualification SENCOs starting in post in academic year 2023 to 2024 "
    "must take to meet the mandatory requirements for the role.",
    "First published.",
]


@pytest.fixture
def mail():
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


def test_first_run_on_the_senco_seed_backfills_five_entries_and_emails_none(tmp_path, page_server, mail):
    page_server.routes[SENCO] = Response(body=SEED, headers={"Content-Type": "text/plain; charset=utf-8"})
    config = tmp_path / "config.yaml"
    email = {"to": ["senco@school.example"], "from": "monitor@school.example", "smtp_host": "127.0.0.1"}
    email |= {"smtp_port": mail.port, "starttls": False}
    settings = {"source": "html", "retries": 1, "timeout": 5, "rate_per_host": 100}
    data = {"database": "monitor.db", "govuk_base_url": page_server.base_url, "pages": [SENCO]}
    config.write_text(
        yaml.safe_dump({**data, "fetch": settings, "digest": {"email": email}}), encoding="utf-8"
    )

    result = CliRunner().invoke(main, ["run", "--config", str(config), "--no-site"])
    assert result.exit_code == 0, result.output
    assert "  email:127.0.0.1: sent 1 change (" in result.output, "run says what it sent, by kind and host"

    url = page_server.url(SENCO)
    with open_store(tmp_path) as store:
        backfilled = [c for c in store.changes(page_url=url) if c.backfilled]
        assert len(backfilled) == 5
        notes = {c.note for c in backfilled}
        assert all(note in notes for note in NOTES)
        assert [c.kind for c in store.changes(page_url=url, include_backfilled=False)] == ["new"]
        assert store.undelivered("email") == []
        assert all(store.deliveries(c.id) == [] for c in backfilled)

    [message] = mail.inbox.messages  # the page's arrival, once
    text, html = parts(message)
    for note in NOTES[:2]:
        assert note not in text and note not in html


def test_the_senco_timeline_keeps_gov_uks_order_for_undated_history(tmp_path, page_server):
    page_server.routes[SENCO] = Response(body=SEED, headers={"Content-Type": "text/plain; charset=utf-8"})
    config = tmp_path / "config.yaml"
    data = {"database": "monitor.db", "site_dir": "site", "govuk_base_url": page_server.base_url}
    settings = {"source": "html", "retries": 1, "timeout": 5, "rate_per_host": 100}
    config.write_text(yaml.safe_dump({**data, "pages": [SENCO], "fetch": settings}), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output

    [page_file] = (tmp_path / "site" / "pages").glob("*.html")
    text = " ".join(page_file.read_text().split())
    markers = [
        "to reflect the fact that further details of the NPQ",
        "changed a subheading from",
        "Clarified information about which qualification",
        "Added information about NASENCO",
        "First published.",
    ]
    positions = [text.index(marker) for marker in markers]
    assert positions == sorted(positions), "the timeline lists the history newest first, as GOV.UK does"
