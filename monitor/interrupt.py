"""A run told to stop (Ctrl-C, SIGINT; or SIGTERM, as a service manager or ``kill`` sends) stops at
once and says what it kept.

Every write of the store is one transaction, so stopping between any two statements keeps each page's
check whole or leaves it out: what was recorded stays, and the pages not recorded are checked again by
the next run. The exit status is the shell's for a process ended by the signal (128 + its number: 130 for
SIGINT, 143 for SIGTERM), so a wrapper script sees the run did not finish.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """The run was told to stop by ``signum``. A BaseException, as KeyboardInterrupt is: no ``except
    Exception`` on the way (a failed send, a failed publish) takes it for a failure to report and go on."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def status(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted` where the run is; a second signal
    while it stops ends the process as the signal would. The handlers before are put back after."""
    before = {signum: signal.getsignal(signum) for signum in SIGNALS}

    def stop(signum: int, frame: FrameType | None) -> None:
        for each in SIGNALS:
            signal.signal(each, signal.SIG_DFL)
        raise Interrupted(signum)

    for signum in SIGNALS:
        signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
