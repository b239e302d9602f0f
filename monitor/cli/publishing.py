"""Commands that tell people what changed: ``digest``, ``site`` and ``notify``; and the commands that
start a newcomer off: ``demo`` and ``init``."""

from __future__ import annotations

import sys
from datetime import date

import click

from .. import config as config_module
from .options import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    Day,
    common,
    fail,
    load_config,
    open_store,
    out_folder,
    reason,
)


@click.command("digest")
@click.option("--dry-run", is_flag=True, help="Write what would be sent to --out; send nothing.")
@click.option("--out", "out_dir", metavar="DIR", default=None, help="Folder for --dry-run and --since files.")
@click.option(
    "--since",
    "since_day",
    type=Day(),
    metavar="YYYY-MM-DD",
    default=None,
    help="Rebuild the digest of changes since DATE.",
)
@click.option("--send", is_flag=True, help="With --since: email each subscriber their own and mark it sent.")
@common
def digest_command(dry_run: bool, out_dir: str | None, since_day: date | None, send: bool) -> None:
    """Send the changes waiting in the outbox (email and webhooks), each change once per channel.

    --dry-run --out DIR writes what would be sent and marks nothing. --since DATE rebuilds the digest of
    every change detected since DATE, delivered or not, and writes it as .eml to --out (or to stdout); it
    is sent only with --send, to each subscriber their own and to digest.email.to all of it. A digest
    with no change in it is not written. What could not be sent, or was refused, is said on standard
    error. Exit status 1 when a channel could not send to everyone (its changes stay queued) or a file
    could not be written.
    """
    from .. import deliver
    from ..store import LockHeld

    config = load_config()
    since = since_day.isoformat() if since_day is not None else None
    if send and not since:
        fail("--send goes with --since; without --since the outbox is sent anyway")
    if dry_run and not out_dir and not since:
        fail("--dry-run needs --out DIR")
    out = out_folder(out_dir) if out_dir else None
    with open_store(config) as store:
        if since is not None:
            digest, message = deliver.rebuild_digest(config, store, since)
            if not digest.changes:
                click.echo(f"No change found since {since}: no digest {'sent' if send else 'written'}.")
                return
            if send and not dry_run:
                if not config.digest.email.smtp_host or not deliver.EmailChannel.configured(config):
                    fail("--send: email is not configured (digest.email.smtp_host, and to or subscribers)")
                sent = deliver.send_rebuilt(config, store, digest)
                for result in sent:
                    click.echo(str(result), err=result.problem)
                if not sent:
                    click.echo(f"No subscriber's pages changed since {since}: no digest sent.")
                sys.exit(EXIT_FAILED if any(r.problem for r in sent) else EXIT_OK)
            elif out is not None:
                try:
                    path = deliver.EmailChannel(config.digest.email).preview(digest, out)
                except OSError as exc:
                    fail(f"--out {out_dir}: cannot be written ({reason(exc)})", EXIT_FAILED)
                click.echo(f"Wrote {path}")
            else:
                click.echo(bytes(message).decode("utf-8", "replace"), nl=False)
            return
        try:
            with store.lock():
                results = deliver.deliver(config, store, dry_run_dir=out if dry_run else None)
        except LockHeld as exc:
            fail(str(exc), EXIT_LOCKED)
        except OSError as exc:
            fail(f"--out {out_dir}: cannot be written ({reason(exc)})", EXIT_FAILED)
    for result in results:
        if result.sent or result.problem or dry_run:
            click.echo(str(result), err=result.problem)
    if not results:
        configured = deliver.channels(config) or dry_run
        click.echo(
            ("Nothing to send: nothing written." if dry_run else "Nothing to send.")
            if configured
            else "No email or webhook is configured."
        )
    sys.exit(EXIT_FAILED if any(r.problem for r in results) else EXIT_OK)


@click.command("site")
@click.option("--out", "out_dir", metavar="DIR", default=None, help="Where to build (default: site_dir).")
@common
def site_command(out_dir: str | None) -> None:
    """Build the static changelog (index, a page per watched page, a page per change, Atom feeds).

    It is built in a temporary folder beside DIR and swapped in whole, so readers never see half a site.
    """
    from ..publish import rebuild_site

    config = load_config()
    if out_dir:
        out_folder(out_dir)
    with open_store(config) as store:
        try:
            path = rebuild_site(config, store, out_dir)
        except OSError as exc:
            fail(f"site: {exc.filename or out_dir or config.site_dir}: {reason(exc)}", EXIT_FAILED)
    click.echo(f"Site written to {path}")


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="demo-output",
    show_default=True,
    metavar="DIR",
    help="Where to leave the database, the digest emails and the site.",
)
@common
def demo_command(out_dir: str) -> None:
    """Replay real captures of a DfE publication and its documents, one a simulated day, offline.

    Each day runs the same cycle as `guidance-monitor run`; the digests are written as .eml files.
    Days and times are UK time.
    """
    from ..demo import PAGE_PATH, run_demo

    out = out_folder(out_dir).absolute()
    try:
        run_demo(out, echo=click.echo)
    except OSError as exc:
        fail(f"demo: {exc.filename or out}: cannot be written ({reason(exc)})", EXIT_FAILED)
    except RuntimeError as exc:
        fail(f"demo: {exc}", EXIT_FAILED)
    click.echo(f"\nDone. Look at:\n  {out / 'site' / 'index.html'}   the changelog (open it in a browser)")
    click.echo(f"  {out}/*.eml   the digest emails\n  {out / 'monitor.db'}   the database")
    click.echo(f"  guidance-monitor --config {out / 'config.yaml'} history {PAGE_PATH}   its timeline")


@click.command("init")
@click.argument("folder", metavar="[DIR]", default=".")
@common
def init_command(folder: str) -> None:
    """Write a commented starter config.yaml into DIR (default: here) and say what to run next.

    It watches the SENCO qualification page and its old address; email and schedule are there, commented
    out. An existing config.yaml is never overwritten.
    """
    target = out_folder(folder, "DIR") / "config.yaml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as file:
            file.write(config_module.STARTER)
    except FileExistsError:
        fail(f"{target} already exists: nothing written (edit it, or init another folder)")
    except OSError as exc:
        fail(f"{target}: cannot be written ({reason(exc)})", EXIT_FAILED)
    flag = "" if target.resolve() == config_module.config_path().resolve() else f" --config {target}"
    click.echo(f"Wrote {target}: it watches the SENCO qualification page. Next:")
    click.echo(f"  guidance-monitor{flag} check --online   see what the monitor reads from each page")
    click.echo(f"  guidance-monitor{flag} run              the first check (then daily: cron or serve)")


@click.command("notify")
@common
@click.option("--test", "test", is_flag=True, help="Send a test message on every configured channel.")
@click.option("--list-channels", is_flag=True, help="List every kind of channel, from plugins too, and exit.")
def notify_command(test: bool, list_channels: bool) -> None:
    """Send a test message on every channel (email, webhooks, digest.notify, digest.channels) and say
    whether it went; --list-channels lists every kind of channel, those from other packages too.

    Each channel is shown by its name, never its address. The test message says it is a test from
    guidance-monitor and names the channel, nothing else. Then the recipients whose server refuses
    changes still waiting for them are listed, with its reply. Exit status 1 when any channel failed.
    Nothing is marked in the outbox.
    """
    from pathlib import Path

    from ..deliver import kinds, notify_test, refusal_lines

    if list_channels:
        for kind, text in kinds():
            click.echo(f"{kind}\n    {' '.join(text.replace('``', '').split())}\n")
        return
    if not test:
        fail("notify: say what to do: --test sends a test message on every channel")
    config = load_config()
    results = notify_test(config)
    if not results:
        fail("notify: no channel is configured (digest.email, digest.webhooks or digest.notify)")
    for result in results:
        click.echo(f"{result.channel}: {'sent' if result.sent else 'FAILED'} ({result.detail})")
    if Path(config.database).exists():
        with open_store(config) as store:
            for line in refusal_lines(config, store):
                click.echo(f"waiting: {line}")
    sys.exit(EXIT_FAILED if any(not r.sent for r in results) else EXIT_OK)


COMMANDS = (digest_command, site_command, demo_command, init_command, notify_command)
