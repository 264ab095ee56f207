"""Mail to the portal's users, sent over SMTP (:attr:`engine.config.Settings.smtp_url`).

Without a mail server configured nothing is sent: the mail is logged at WARNING without its body (which may hold
a secret link), except in development (``MOTCUA_DEV=1``, as ``make run`` sets), where the whole mail is logged so
that a developer can follow its link.
"""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr
from typing import Self
from urllib.parse import unquote, urlsplit

from .config import Settings

log = logging.getLogger("motcua.mail")
TIMEOUT = 10  # seconds to reach and talk to the server


class MailFailed(Exception):
    """The mail server could not be reached or refused the mail.

    ``permanent``: the server refused this very mail for good (its address or its content, a 5xx reply), so trying
    it again would fail again; a server away, a refused login or sender (the portal's set-up) may be fixed, and the
    mail then goes. ``server_away``: the conversation with the server failed (not reached, login refused, cut off),
    so a next mail over it would fail too; otherwise only this mail was refused.
    """

    def __init__(self, message: str, permanent: bool = False, server_away: bool = True):
        super().__init__(message)
        self.permanent = permanent
        self.server_away = server_away


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def shown_in_console() -> bool:
    """Whether mail that no server takes is shown whole in the log (development, ``MOTCUA_DEV=1``)."""
    return os.environ.get("MOTCUA_DEV") == "1"


def message(settings: Settings, to: str, subject: str, body: str) -> Message:
    """A plain-text mail in UTF-8. Its headers are encoded and folded by :class:`email.header.Header`: the folding
    of :class:`email.message.EmailMessage` (Python 3.11) drops the space between two encoded words where it splits
    a long subject, which it did to about one Vietnamese subject in six ("dùng để" read as "dùngđể")."""
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = formataddr(parseaddr(settings.mail_from), charset="utf-8")
    msg["To"] = to
    msg["Subject"] = Header(subject, "utf-8")
    return msg


class Conversation:
    """One conversation with the mail server for one or more mails (a context manager): it connects at the first
    mail and says goodbye at the end."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._server: smtplib.SMTP | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()

    def _connect(self) -> smtplib.SMTP:
        url = urlsplit(self.settings.smtp_url or "")
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise MailFailed(f"MOTCUA_SMTP_URL must be smtp://host[:port] or smtps://host[:port], not {url.scheme}://…")
        if url.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=TIMEOUT,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(url.hostname, url.port or 25, timeout=TIMEOUT)
        try:
            if url.scheme == "smtp":
                server.ehlo()
                if server.has_extn("starttls"):
                    server.starttls(context=ssl.create_default_context())
                    server.ehlo()
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
        except BaseException:
            server.close()
            raise
        return server

    def send(self, to: str, subject: str, body: str) -> bool:
        """Send a plain-text mail; True if the server took it, False if none is configured. Raises
        :class:`MailFailed` (logged here)."""
        if not self.configured:
            if shown_in_console():
                log.warning("no MOTCUA_SMTP_URL: mail not sent, shown here (development)\nTo: %s\nSubject: %s\n\n%s",
                            to, subject, body)
            else:
                log.warning("no MOTCUA_SMTP_URL: mail to %s not sent (%s)", to, subject)
            return False
        try:
            if self._server is None:
                self._server = self._connect()
            self._server.send_message(message(self.settings, to, subject, body))
        except MailFailed:
            log.error("mail to %s not sent: MOTCUA_SMTP_URL is not an SMTP address", to)
            raise
        except (OSError, smtplib.SMTPException) as exc:
            # a refused recipient or content leaves the conversation usable (smtplib has reset it)
            only_this = isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError))
            if not only_this:
                self.close()
            log.error("mail to %s not sent: %s", to, exc)
            raise MailFailed(str(exc), permanent=_permanent(exc), server_away=not only_this) from exc
        return True


def send(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text mail; True if a server took it, False if none is configured. Raises :class:`MailFailed`."""
    with Conversation(settings) as conversation:
        return conversation.send(to, subject, body)
