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
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from .config import Settings

log = logging.getLogger("motcua.mail")
TIMEOUT = 10  # seconds to reach and talk to the server


class MailFailed(Exception):
    """The mail server could not be reached or refused the mail."""


def message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def send(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send a plain-text mail; True if a server took it, False if none is configured. Raises :class:`MailFailed`."""
    if not settings.smtp_url:
        if os.environ.get("MOTCUA_DEV") == "1":
            log.warning("no MOTCUA_SMTP_URL: mail not sent, shown here (development)\nTo: %s\nSubject: %s\n\n%s",
                        to, subject, body)
        else:
            log.warning("no MOTCUA_SMTP_URL: mail to %s not sent (%s)", to, subject)
        return False
    url = urlsplit(settings.smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise MailFailed(f"MOTCUA_SMTP_URL must be smtp://host[:port] or smtps://host[:port], not {url.scheme}://…")
    msg = message(settings, to, subject, body)
    try:
        if url.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=TIMEOUT,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(url.hostname, url.port or 25, timeout=TIMEOUT)
        with server:
            if url.scheme == "smtp":
                server.ehlo()
                if server.has_extn("starttls"):
                    server.starttls(context=ssl.create_default_context())
                    server.ehlo()
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail to %s not sent: %s", to, exc)
        raise MailFailed(str(exc)) from exc
    return True
