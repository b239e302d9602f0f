"""Load and check ``config.yaml``.

The keys are a contract with users' files, so every key is checked against the schema below and a mistake
is reported in one line that names the key (``pages[1].url: missing``), never as a traceback.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .govuk import normalise
from .settings import (
    WEBHOOK_FORMATS,
    ChannelSettings,
    Config,
    DigestSettings,
    EmailSettings,
    FetchSettings,
    NotifySettings,
    PageConfig,
    ScheduleSettings,
    SearchConfig,
    Subscriber,
    WebhookSettings,
)
from .subscriptions import SubscriberError, parse_subscribers

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where it is installed, since it reads a long watch list much sooner; else the
pure-Python one."""

ENV_VAR = "GUIDANCE_MONITOR_CONFIG"
DEFAULT_PATH = "config.yaml"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key at fault."""


def config_path(explicit: str | None = None) -> Path:
    """``--config``, else ``$GUIDANCE_MONITOR_CONFIG``, else ``./config.yaml``."""
    return Path(explicit or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate a configuration file; relative paths in it are taken from its folder."""
    file = config_path(str(path) if path is not None else None)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such configuration file") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{file}: not UTF-8 text (line {line}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read ({exc.strerror})") from None
    try:
        raw = yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader: libyaml's when installed)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}: not valid YAML{where}") from None
    config = from_mapping(raw if raw is not None else {}, base_dir=file.resolve().parent)
    config.path = str(file)
    return config


def from_mapping(raw: Any, base_dir: Path | None = None) -> Config:
    """Build a Config from parsed YAML, checking every key and type."""
    data = _mapping(raw, "")
    _only(
        data,
        "",
        {"database", "site_dir", "govuk_base_url", "pages", "searches", "fetch", "digest", "schedule"},
    )
    config = Config()
    config.database = _str(data, "database", config.database)
    config.site_dir = _str(data, "site_dir", config.site_dir)
    config.govuk_base_url = _url(data, "govuk_base_url", config.govuk_base_url).rstrip("/")
    config.pages = [_page(item, f"pages[{i}]") for i, item in enumerate(_list(data, "pages"))]
    config.searches = [_search(item, f"searches[{i}]") for i, item in enumerate(_list(data, "searches"))]
    config.fetch = _fetch(data.get("fetch"), "fetch")
    config.digest = _digest(data.get("digest"), "digest")
    config.digest.subscribers = _subscribers(data.get("digest"), config)
    if any(s.to for s in config.digest.subscribers) and not config.digest.email.smtp_host:
        raise ConfigError("digest.email.smtp_host: missing (needed to send to digest.subscribers)")
    config.schedule = _schedule(data.get("schedule"), "schedule")
    if base_dir is not None:
        config.database = str(_resolve(base_dir, config.database))
        config.site_dir = str(_resolve(base_dir, config.site_dir))
    return config


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


# --------------------------------------------------------------------------- sections


def _page(raw: Any, where: str) -> PageConfig:
    if isinstance(raw, str):
        raw = {"url": raw}
    data = _mapping(raw, where)
    _only(data, where, {"url", "follow_documents", "selector", "name"})
    if "url" not in data:
        raise ConfigError(f"{where}.url: missing")
    url = _str(data, "url", "", where).strip()
    if not url or not (url.startswith("/") or urlsplit(url).scheme.lower() in ("http", "https")):
        raise ConfigError(f"{where}.url: must be a GOV.UK path such as /guidance/x or an http(s) address")
    return PageConfig(
        url=url,
        follow_documents=_bool(data, "follow_documents", False, where),
        selector=_optional_str(data, "selector", where),
        name=_optional_str(data, "name", where),
    )


def _search(raw: Any, where: str) -> SearchConfig:
    data = _mapping(raw, where)
    _only(data, where, {"name", "organisations", "supergroup", "query", "max_pages", "follow_documents"})
    if "name" not in data:
        raise ConfigError(f"{where}.name: missing")
    organisations = data.get("organisations", [])
    if isinstance(organisations, str):
        organisations = [organisations]
    if not isinstance(organisations, list) or not all(isinstance(o, str) for o in organisations):
        raise ConfigError(f"{where}.organisations: must be a list of organisation slugs")
    return SearchConfig(
        name=_str(data, "name", "", where),
        organisations=organisations,
        supergroup=_optional_str(data, "supergroup", where),
        query=_str(data, "query", "", where),
        max_pages=_int(data, "max_pages", 200, where, minimum=1),
        follow_documents=_bool(data, "follow_documents", False, where),
    )


def _fetch(raw: Any, where: str) -> FetchSettings:
    data = _mapping(raw or {}, where)
    d = FetchSettings()
    _only(data, where, {f.name for f in dataclasses.fields(FetchSettings)})
    source = _str(data, "source", d.source, where)
    if source not in ("html", "api", "auto"):
        raise ConfigError(f"{where}.source: must be html, api or auto, not {source!r}")
    return FetchSettings(
        rate_per_host=_number(data, "rate_per_host", d.rate_per_host, where, minimum=0.01),
        concurrency=_int(data, "concurrency", d.concurrency, where, minimum=1),
        timeout=_number(data, "timeout", d.timeout, where, minimum=0.01),
        user_agent=_str(data, "user_agent", d.user_agent, where),
        source=source,  # type: ignore[arg-type]
        max_bytes=_int(data, "max_bytes", d.max_bytes, where, minimum=1),
        retries=_int(data, "retries", d.retries, where, minimum=1),
        alert_after_failures=_int(data, "alert_after_failures", d.alert_after_failures, where, minimum=1),
        recheck_days=_int(data, "recheck_days", d.recheck_days, where, minimum=0),
    )


def _digest(raw: Any, where: str) -> DigestSettings:
    data = _mapping(raw or {}, where)
    _only(
        data,
        where,
        {
            "email",
            "webhooks",
            "site_url",
            "subscribers",
            "notify",
            "channels",
            "give_up_after_days",
            "unsubscribe_url",
        },
    )
    unsubscribe_url = _str(data, "unsubscribe_url", "", where).strip()
    if unsubscribe_url and (
        urlsplit(unsubscribe_url).scheme != "https" or not urlsplit(unsubscribe_url).netloc
    ):
        raise ConfigError(
            f"{where}.unsubscribe_url: must be an https address (one-click unsubscribe needs one)"
        )
    hooks = []
    for i, item in enumerate(_list(data, "webhooks", where)):
        w = f"{where}.webhooks[{i}]"
        hook = _mapping(item, w)
        _only(hook, w, {"url", "url_env", "format", "name"})
        fmt = _str(hook, "format", "json", w)
        if fmt not in WEBHOOK_FORMATS:
            formats = f"{', '.join(WEBHOOK_FORMATS[:-1])} or {WEBHOOK_FORMATS[-1]}"
            raise ConfigError(f"{w}.format: must be {formats}, not {fmt!r}")
        url, url_env = _secret_url(hook, w)
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise ConfigError(f"{w}.url: must be an http(s) address")  # never echoed: it may hold a token
        name = _str(hook, "name", "", w)
        hooks.append(WebhookSettings(url=url, format=fmt, url_env=url_env, name=name))  # type: ignore[arg-type]
    return DigestSettings(
        email=_email(data.get("email"), f"{where}.email"),
        webhooks=hooks,
        site_url=_str(data, "site_url", "", where).rstrip("/"),
        notify=[_notify(item, f"{where}.notify[{i}]") for i, item in enumerate(_list(data, "notify", where))],
        channels=[
            _channel(item, f"{where}.channels[{i}]") for i, item in enumerate(_list(data, "channels", where))
        ],
        give_up_after_days=_int(
            data, "give_up_after_days", DigestSettings.give_up_after_days, where, minimum=0
        ),
        unsubscribe_url=unsubscribe_url,
    )


# ------------------------------------------------------------------ delivery channels


def _secret_url(data: dict[str, Any], where: str) -> tuple[str, str]:
    """``url`` or ``url_env`` (the name of the environment variable holding it), exactly one."""
    url, url_env = _str(data, "url", "", where), _str(data, "url_env", "", where)
    if bool(url) == bool(url_env):
        raise ConfigError(f"{where}.url: give either url or url_env (the variable holding the address)")
    return url, url_env


def _notify(raw: Any, where: str) -> NotifySettings:
    """An Apprise URL (``slack://…``, ``ntfy://…``, ``${NAME}`` read from the environment at send time),
    or ``{url_env: NAME}`` / ``{url: URL, name: NAME}``."""
    data = {"url": raw} if isinstance(raw, str) else _mapping(raw, where)
    _only(data, where, {"url", "url_env", "name"})
    url, url_env = _secret_url(data, where)
    if url and "://" not in url:
        raise ConfigError(f"{where}.url: must be an Apprise URL such as ntfy://ntfy.sh/TOPIC")
    return NotifySettings(url=url, url_env=url_env, name=_str(data, "name", "", where))


def _channel(raw: Any, where: str) -> ChannelSettings:
    """A ``digest.channels`` item: ``kind`` names a channel another package provides, which checks the
    item's other keys itself (so its package is loaded only when the configuration names it)."""
    from .deliver import plugin_channel

    data = _mapping(raw, where)
    item = ChannelSettings(
        kind=_str(data, "kind", "", where),
        name=_str(data, "name", "", where),
        options={k: v for k, v in data.items() if k not in ("kind", "name")},
    )
    try:
        plugin_channel(item, where)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return item


def _email(raw: Any, where: str) -> EmailSettings:
    data = _mapping(raw or {}, where)
    _only(
        data,
        where,
        {
            "to",
            "from",
            "smtp_host",
            "smtp_port",
            "starttls",
            "ssl",
            "username_env",
            "password_env",
            "unsubscribe",
        },
    )
    d = EmailSettings()
    to = data.get("to", [])
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not all(isinstance(a, str) and "@" in a for a in to):
        raise ConfigError(f"{where}.to: must be a list of email addresses")
    if to and not _str(data, "smtp_host", "", where).strip():
        # Otherwise the digest would never go out and nothing would say so.
        raise ConfigError(f"{where}.smtp_host: missing: {where}.to lists addresses but no mail server")
    return EmailSettings(
        to=to,
        from_=_str(data, "from", "", where),
        smtp_host=_str(data, "smtp_host", "", where),
        smtp_port=_int(data, "smtp_port", d.smtp_port, where, minimum=1),
        starttls=_bool(data, "starttls", d.starttls, where),
        ssl=_bool(data, "ssl", d.ssl, where),
        username_env=_str(data, "username_env", d.username_env, where),
        password_env=_str(data, "password_env", d.password_env, where),
        unsubscribe=_address(data, "unsubscribe", where),
    )


def _address(data: dict[str, Any], key: str, where: str) -> str:
    """An optional email address: one line, with an @ (it goes into a header)."""
    value = _str(data, key, "", where).strip()
    if value and ("@" not in value or any(c.isspace() or ord(c) < 32 for c in value)):
        raise ConfigError(f"{where}.{key}: must be an email address")
    return value


def _schedule(raw: Any, where: str) -> ScheduleSettings:
    data = _mapping(raw or {}, where)
    _only(data, where, {"cron", "timezone"})
    d = ScheduleSettings()
    cron = _str(data, "cron", d.cron, where)
    if len(cron.split()) != 5:
        raise ConfigError(f"{where}.cron: needs five fields (minute hour day month weekday), got {cron!r}")
    timezone = _str(data, "timezone", d.timezone, where)
    try:
        zone = ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"{where}.timezone: unknown time zone {timezone!r}") from None
    if cron != d.cron:  # the default is known good: APScheduler is imported only to check another
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(cron, timezone=zone)
        except ValueError as exc:
            raise ConfigError(f"{where}.cron: {cron!r} is not a valid cron expression ({exc})") from None
    return ScheduleSettings(cron=cron, timezone=timezone)


# --------------------------------------------------------------------------- checks


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _mapping(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where}: must be a mapping of keys to values"
            if where
            else "the file must be a mapping of keys to values (key: value lines)"
        )
    return raw


def _only(data: dict[str, Any], where: str, allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{_key(where, str(key))}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _list(data: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{_key(where, key)}: must be a list")
    return value


def _str(data: dict[str, Any], key: str, default: str, where: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(f"{_key(where, key)}: must be text, not {type(value).__name__}")
    return value


def _optional_str(data: dict[str, Any], key: str, where: str) -> str | None:
    return _str(data, key, "", where) or None


def _url(data: dict[str, Any], key: str, default: str, where: str = "") -> str:
    value = _str(data, key, default, where)
    if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise ConfigError(f"{_key(where, key)}: must be an http(s) address, not {value!r}")
    return value


def _bool(data: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{_key(where, key)}: must be true or false")
    return value


def _int(data: dict[str, Any], key: str, default: int, where: str, minimum: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{_key(where, key)}: must be a whole number")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{_key(where, key)}: must be at least {minimum}")
    return value


def _number(data: dict[str, Any], key: str, default: float, where: str, minimum: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{_key(where, key)}: must be a number")
    if value < minimum:
        raise ConfigError(f"{_key(where, key)}: must be at least {minimum}")
    return float(value)


def _subscribers(digest: Any, config: Config) -> list[Subscriber]:
    """``digest.subscribers``, whose rules live in ``monitor.subscriptions``; a search named must exist."""
    try:
        return parse_subscribers(
            (digest or {}).get("subscribers"), "digest.subscribers", {s.name for s in config.searches}
        )
    except SubscriberError as exc:
        raise ConfigError(str(exc)) from None


def absolute_url(config: Config, url: str) -> str:
    """A page's one address: a path (``/guidance/x``) lives on ``govuk_base_url``, and two spellings of
    one page (case, trailing slash, fragment, tracking parameters, www.gov.uk or a path) are one page."""
    return normalise(url, config.govuk_base_url)


STARTER = """\
# guidance-monitor: the pages to watch and how to report on them (written by `guidance-monitor init`).
# Every key is optional except pages[].url. Relative paths are taken from this file's folder.

# The SQLite file that keeps every fetch, snapshot and change. Created on the first run.
database: data/monitor.db

# Where the static changelog (HTML pages and Atom feeds) is written after every run.
site_dir: site

pages:
  # "Mandatory qualification for SENCOs" (DfE guidance), and the documents it links.
  - url: /government/publications/mandatory-qualification-for-sencos
    follow_documents: true
  # Its older address: it now redirects to the one above, and the redirect is recorded.
  - url: /government/publications/national-award-for-sen-co-ordination-learning-outcomes
  # A page outside GOV.UK: give the CSS selector of the element holding its text.
  # - url: https://example.org/guidance/send-policy
  #   selector: "main article"

fetch:
  # Says who is asking; put a contact address here so GOV.UK can reach you.
  user_agent: "guidance-monitor/0.1 (contact: you@example.org)"

# The email digest: one email per run with changes. The SMTP login is read from the environment
# variables named here, never from this file.
# digest:
#   email:
#     to: [senco@school.example]
#     from: guidance-monitor@school.example
#     smtp_host: smtp.school.example
#     smtp_port: 587
#     username_env: SMTP_USER
#     password_env: SMTP_PASSWORD
#   site_url: https://example.org/guidance-changes

# When `guidance-monitor serve` runs: a cron expression in the time zone below.
# schedule:
#   cron: "0 7 * * *"
#   timezone: Europe/London
"""
"""What ``guidance-monitor init`` writes: the shipped watch list, with email and schedule commented out."""
