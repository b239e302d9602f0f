"""The folder channel: the email digest written as ``.eml`` files instead of sent."""

from __future__ import annotations

import os
from pathlib import Path

from ..render.chat import Digest
from ..settings import Config, EmailSettings
from .channel import Channel, DeliveryError, reason
from .smtp import EmailChannel


class FolderChannel(EmailChannel):
    """Folder: the email digest written as an ``.eml`` file into a folder instead of sent (the demo's
    inbox). It has its own outbox (``folder:<path>``), so each change is written once, in the file of
    the run that found it; the email channel is unaffected. Not set in config.yaml: used from code."""

    __kind__ = "folder"

    def __init__(self, settings: EmailSettings, folder: str | os.PathLike[str]) -> None:
        super().__init__(settings)
        self.folder = Path(folder).absolute()

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        """None: a folder is given in code (the demo's inbox), never in the configuration."""
        return []

    @property
    def name(self) -> str:
        return f"folder:{self.folder}"

    @property
    def label(self) -> str:
        return f"folder:{self.folder}"

    deliver = Channel.deliver
    """One file per digest, kept as one attempt: a folder has no recipients to answer one by one."""

    def send(self, digest: Digest, key: str = "") -> str:
        try:
            return str(self.preview(digest, self.folder))
        except OSError as exc:
            raise DeliveryError(f"{self.folder}: {reason(exc)}") from None
