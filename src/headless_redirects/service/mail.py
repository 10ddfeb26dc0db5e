"""Email (SPEC §11): over SMTP when ``HEADLESS_REDIRECTS_SMTP_URL`` is set, else to the log and
the development outbox (``headless-redirects mail list``), so a local install works end to end.

Every message is recorded in ``mail_outbox`` first; the SMTP conversation then runs in a worker
thread, never on the event loop and never inside a request: a slow mail server delays no answer
(and the answer does not tell whether a message was sent, which keeps recovery from
enumerating accounts).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from ..settings import Settings
from ..storage.mail import MailRow, MailStore

__all__ = ["Mailer", "SmtpTarget", "parse_smtp_url"]

log = logging.getLogger("headless_redirects.mail")


class SmtpTarget:
    def __init__(self, host: str, port: int, username: str | None, password: str | None, implicit_tls: bool) -> None:
        self.host, self.port, self.username, self.password, self.implicit_tls = (
            host, port, username, password, implicit_tls)


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:pass@]host[:port]`` (STARTTLS when the server offers it) or ``smtps://``
    (TLS from the first byte)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"HEADLESS_REDIRECTS_SMTP_URL must look like smtp://user:pass@host:587, not {url!r}")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(parts.hostname, parts.port or (465 if implicit else 25),
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, implicit)


class Mailer:
    def __init__(self, store: MailStore, settings: Settings) -> None:
        self.store = store
        self.sender = settings.mail_from
        self.target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        self._tasks: set[asyncio.Future[None]] = set()

    def record(self, site_id: str | None, to: str, subject: str, body: str) -> MailRow:
        """Store a message (blocking; called through ``Database.run``)."""
        row = MailRow(str(uuid.uuid4()), site_id, to, subject, body, int(time.time()),
                      "pending" if self.target is not None else "outbox")
        self.store.insert(row)
        if self.target is None:
            log.info("mail kept in the development outbox (no SMTP configured)",
                     extra={"mail_id": row.id, "to": to, "subject": subject, "body": body})
        return row

    def send_soon(self, row: MailRow) -> None:
        """Hand a recorded message to SMTP in a worker thread (from the event loop)."""
        if self.target is None:
            return
        task = asyncio.get_running_loop().run_in_executor(None, self._deliver, row)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _deliver(self, row: MailRow) -> None:
        target = self.target
        assert target is not None
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message["Message-ID"] = f"<{row.id}@headless-redirects>"
        message.set_content(row.body)
        try:
            if target.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port, timeout=30,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(target.host, target.port, timeout=30)
            with smtp:
                smtp.ehlo()
                if not target.implicit_tls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if target.username:
                    smtp.login(target.username, target.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("mail not sent", extra={"mail_id": row.id, "to": row.recipient, "error": str(exc)})
            self.store.mark(row.id, "failed", error=str(exc))
            return
        self.store.mark(row.id, "sent", sent_at=int(time.time()))
        log.info("mail sent", extra={"mail_id": row.id, "to": row.recipient, "subject": row.subject})

    async def drain(self) -> None:
        """Wait for messages handed to SMTP (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
