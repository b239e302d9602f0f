"""Send what changed: the edge where output leaves us. Only sending and the outbox live here; every word
sent is ``render``'s.

Each channel is a small class in a module of its own, registered by its ``__kind__``: email over SMTP
(:mod:`.smtp`), the ``.eml`` folder (:mod:`.folder`), webhooks (:mod:`.webhook`) and Apprise
(:mod:`.notify`); other installed packages add kinds through the entry-point group
``guidance_monitor.channels``. What they share is in :mod:`.channel`; :mod:`.outbox` decides which
change goes on which channel, to whom and when.
"""

from __future__ import annotations

from ..render.chat import Digest
from .channel import (
    Channel,
    Delivery,
    DeliveryError,
    channels,
    kinds,
    message_key,
    plugin_channel,
    shown_host,
)
from .folder import FolderChannel
from .notify import NotifyChannel
from .outbox import (
    deliver,
    deliver_pending,
    london_day_start,
    notify_test,
    rebuild_digest,
    refusal_lines,
    send_rebuilt,
)
from .smtp import EmailChannel
from .webhook import WebhookChannel

__all__ = [
    "Channel",
    "Delivery",
    "DeliveryError",
    "Digest",
    "EmailChannel",
    "FolderChannel",
    "NotifyChannel",
    "WebhookChannel",
    "channels",
    "deliver",
    "deliver_pending",
    "kinds",
    "london_day_start",
    "message_key",
    "notify_test",
    "plugin_channel",
    "rebuild_digest",
    "refusal_lines",
    "send_rebuilt",
    "shown_host",
]
