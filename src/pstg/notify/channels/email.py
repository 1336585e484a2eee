"""E-mail through an SMTP server, with aiosmtplib (asyncio, maintained, STARTTLS and SSL).

One connection per message: notifications are rare, and a connection held open between alarms
would be the one a server closed at 3 a.m. `security: starttls` refuses a server that does
not offer STARTTLS rather than sending in clear text; certificates are verified (`ca_file`
for a private CA). What the server says goes into the journal; the password never does.
"""

from __future__ import annotations

import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from pstg.config.notifications import EMAIL_CHANNEL, EmailConfig, resolve_secret
from pstg.notify.channels.base import DeliveryError
from pstg.notify.message import Content, Recipient, subject, text

_NO_STARTTLS = "STARTTLS extension not supported"
"""What aiosmtplib says (in a plain SMTPException) when the server offers no STARTTLS."""


class EmailChannel:
    name = EMAIL_CHANNEL

    def __init__(self, config: EmailConfig) -> None:
        self.config = config
        self._password = resolve_secret(config.password)

    async def send(
        self, content: Content, recipient: Recipient, *, notification_id: str, now: datetime
    ) -> str:
        if recipient.email is None:
            raise DeliveryError(f"{recipient.name} has no email address", permanent=True)
        config = self.config
        message = EmailMessage()
        message["From"] = config.sender
        message["To"] = recipient.email
        message["Subject"] = subject(content)
        message["Date"] = formatdate(now.timestamp(), localtime=False)
        message["Message-ID"] = make_msgid(idstring=notification_id.replace("-", ""))
        message["X-PSTG-Notification-Id"] = notification_id
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
        message.set_content(text(content))
        try:
            _refused, response = await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.server_port,
                username=config.username,
                password=self._password.reveal() if self._password is not None else None,
                use_tls=config.security == "ssl",
                start_tls=config.security == "starttls",
                timeout=config.timeout,
                cert_bundle=config.ca_file,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {_short(exc)}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600  # 4xx: "try again later", as SMTP means it
            raise DeliveryError(f"SMTP {exc.code}: {exc.message}", permanent=permanent) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # A certificate nobody vouches for, or a server without STARTTLS, does not heal by
            # itself: fail at once, so that notification_failed calls the next channel now.
            permanent = isinstance(exc, ssl.SSLCertVerificationError) or _NO_STARTTLS in str(exc)
            error = f"{type(exc).__name__}: {_short(exc)}"
            raise DeliveryError(error, permanent=permanent) from exc
        return response.strip()[:200]

    async def close(self) -> None:
        pass


def _short(exc: BaseException) -> str:
    return str(exc).strip()[:300] or type(exc).__name__
