"""The one Jinja environment the templates in ``templates/`` are rendered in: autoescaped, strict about
undefined names, and given the filters and globals that word a change the same way everywhere."""

from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .. import TEMPLATES_DIR
from ..govuk import page_slug
from .changesets import (
    attachment_facts,
    diff_text,
    has_word_diff,
    nl2br,
    pages_changed,
    section_label,
    spaced,
    summary_counts,
    trim_ops,
)
from .labels import (
    ATTACHMENT_LABELS,
    BACKFILLED_LABEL,
    DOCUMENT_EXPLAINED,
    DOCUMENT_SILENT,
    FIELD_LABELS,
    KIND_LABELS,
    NO_DATE,
    PUBLICATION_NOTE,
    SIGNAL_LABELS,
    SIGNAL_MEANINGS,
    SILENT_WARNING,
    change_label,
    description,
    month_label,
    plural,
    signal_kinds,
    signal_phrase,
)
from .records import (
    change_date,
    change_key,
    change_notes,
    http_url,
    iso_utc,
    note_entries,
    note_lines,
    notes_dated,
    shown_date,
)
from .stories import (
    document_groups,
    document_line,
    earlier_notes,
    event_lines,
    headline_line,
    headline_prefix,
    how_much,
    lead,
    lead_lines,
    silent_sentence,
    story_key,
    story_label,
    story_signals,
)

if TYPE_CHECKING:
    import jinja2


def _template_cache() -> jinja2.BytecodeCache | None:
    import jinja2

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        """Jinja's compiled templates kept between runs in its per-user cache folder (keyed by each
        template's source, so an edited template is compiled afresh), so a run does not compile them all
        again. A folder that cannot be written only means compiling again next time."""

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    try:
        return TemplateCache()
    except (OSError, RuntimeError):  # no private temporary folder of our own: compile each time
        return None


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja environment. Jinja is imported here, on the first render: a run that finds nothing
    renders nothing and need not load it."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        bytecode_cache=_template_cache(),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates change only with a new version: no stat of each file per render
    )
    env.filters.update(
        london_date=shown_date,
        http_url=http_url,
        iso_utc=iso_utc,
        slug=page_slug,
        trim_ops=trim_ops,
        diff_text=diff_text,
        spaced=spaced,
        nl2br=nl2br,
        plural=plural,
        month_label=month_label,
        signal_phrase=signal_phrase,
    )
    env.globals.update(
        kind_label=lambda kind: KIND_LABELS.get(kind, kind),
        backfilled_label=BACKFILLED_LABEL,
        silent_warning=SILENT_WARNING,
        change_key=change_key,
        change_date=change_date,
        change_notes=change_notes,
        note_entries=note_entries,
        notes_dated=notes_dated,
        note_lines=note_lines,
        change_label=change_label,
        no_date=NO_DATE,
        description=description,
        section_label=section_label,
        field_label=lambda name: FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
        counts=summary_counts,
        attachment_facts=attachment_facts,
        pages_changed=pages_changed,
        document_groups=document_groups,
        story_label=story_label,
        story_key=story_key,
        story_signals=story_signals,
        lead=lead,
        lead_lines=lead_lines,
        document_line=document_line,
        event_lines=event_lines,
        how_much=how_much,
        headline_prefix=headline_prefix,
        headline_line=headline_line,
        earlier_notes=earlier_notes,
        silent_sentence=silent_sentence,
        publication_note=PUBLICATION_NOTE,
        document_explained=DOCUMENT_EXPLAINED,
        document_silent=DOCUMENT_SILENT,
        attachment_label=lambda status: ATTACHMENT_LABELS.get(status, status),
        signal_label=lambda kind: SIGNAL_LABELS.get(kind, kind),
        has_word_diff=has_word_diff,
        signal_kinds=signal_kinds,
        signal_what=SIGNAL_MEANINGS,
        has_diff_partial=(TEMPLATES_DIR / "_diff.html").is_file(),
    )
    return env


def render_template(name: str, **context: Any) -> str:
    """One template rendered whole."""
    return environment().get_template(name).render(**context)
