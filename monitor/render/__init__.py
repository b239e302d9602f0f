"""Turn recorded changes into what people read: the email digest, the static changelog and its Atom
feeds, chat messages and the ``diff`` command's reports.

Pure: lists of :class:`~monitor.model.Change` and :class:`~monitor.model.PageState` in, text out. Sending
is ``deliver``'s job and writing the changelog's files is ``publish``'s. Every template is autoescaped,
and only http(s) addresses taken from a page ever become links, so a page holding ``<script>`` or a
``javascript:`` link renders as text.

One module a topic: ``labels`` (the words for what happened), ``records`` (how a change is keyed,
dated and linked), ``changesets`` (word diffs and counts), ``stories`` (a publication and its documents
told together), ``templates`` (the Jinja environment), ``digests`` (the email), ``changelog`` (the
site's pages and feeds), ``summaries`` (JSON for webhooks), ``chat`` (Slack, Teams, Apprise),
``plain_text`` (text safe in a header) and ``reports`` (the ``diff`` command). The names most callers
use are importable from here.
"""

from __future__ import annotations

from ..clock import london_date
from .changesets import diff_text, pages_changed
from .digests import SUBJECT_LIMIT, digest
from .labels import BACKFILLED_LABEL, SIGNAL_LABELS, SIGNAL_PHRASE_LIMIT, change_label
from .records import change_date, change_key, http_url
from .reports import changeset_html, html_report, text_report
from .stories import change_stories
from .summaries import story_summaries

__all__ = [
    "BACKFILLED_LABEL",
    "SIGNAL_LABELS",
    "SIGNAL_PHRASE_LIMIT",
    "SUBJECT_LIMIT",
    "change_date",
    "change_key",
    "change_label",
    "change_stories",
    "changeset_html",
    "diff_text",
    "digest",
    "html_report",
    "http_url",
    "london_date",
    "pages_changed",
    "story_summaries",
    "text_report",
]
