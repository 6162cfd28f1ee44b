"""The demo's mailbox: an SMTP server on 127.0.0.1 that keeps every mail as a file.

The demo points the worker's mail settings at it, so camera notices to
agencies land in ``var/demo-mail/*.eml`` instead of leaving the machine.
"""

import email
import email.policy
import itertools
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)

# Called with the subject and the file of each mail received.
MailListener = Callable[[str, Path], None]


class MailboxHandler:
    """aiosmtpd handler that writes each message to ``folder``."""

    def __init__(self, folder: Path, listener: MailListener | None = None) -> None:
        self.folder = folder
        self.listener = listener
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{next(self._numbers):04d}.eml"
        path.write_bytes(content)
        message = email.message_from_bytes(content, policy=email.policy.default)
        subject = str(message.get("Subject", ""))
        logger.info(
            "demo mail received subject=%r to=%s file=%s",
            subject,
            ",".join(envelope.rcpt_tos),
            path,
        )
        if self.listener is not None:
            self.listener(subject, path)
        return "250 Message accepted for delivery"


class DemoMailbox:
    """A running SMTP server and the folder its mail goes to."""

    def __init__(self, controller: Controller, folder: Path) -> None:
        self.controller = controller
        self.folder = folder

    @property
    def host(self) -> str:
        return str(self.controller.hostname)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()


def start_mailbox(
    folder: Path,
    port: int | None,
    listener: MailListener | None = None,
    host: str = "127.0.0.1",
) -> DemoMailbox:
    """Start an SMTP server on ``host:port`` that stores mail in ``folder``.

    With ``port`` None a free port is chosen. Raises OSError when the port
    is in use.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # aiosmtpd logs every connection at INFO, which would fill the console.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    if port is None:
        # aiosmtpd connects to its own port to confirm the start, so it
        # cannot take port 0 and report the port the system chose.
        port = free_port(host)
    controller = Controller(
        MailboxHandler(folder, listener), hostname=host, port=port, ready_timeout=10
    )
    controller.start()
    logger.info("demo mailbox started host=%s port=%d folder=%s", host, port, folder)
    return DemoMailbox(controller, folder)


def free_port(host: str) -> int:
    """Return a port on ``host`` that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
