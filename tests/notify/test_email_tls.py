"""E-mail over TLS against a real aiosmtpd on 127.0.0.1 with a self-signed certificate: STARTTLS
with a login (the usual submission port), implicit TLS, and the refusals — a server that does
not offer STARTTLS, a certificate nobody vouches for. Nothing is ever sent in clear text."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from pstg.config.notifications import EmailConfig
from pstg.notify.channels.base import DeliveryError
from pstg.notify.channels.email import EmailChannel
from pstg.notify.message import Notice, NoticeKind, Recipient
from tests.notify.servers import Mailbox, free_tcp_port
from tests.notify.support import T0, raised
from tests.support.tls import self_signed

USER, PASSWORD = "pstg", "smtp-password-for-tests"
ALICE = Recipient("alice", email="alice@localhost")
NOTICE = Notice(NoticeKind.RAISED, raised())


class Logins:
    """aiosmtpd's authenticator: takes USER/PASSWORD, remembers every attempt."""

    def __init__(self) -> None:
        self.tried: list[tuple[str, str]] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        self.tried.append(login)
        return AuthResult(success=login == (USER, PASSWORD))


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@contextmanager
def smtp_server(**kwargs: Any) -> Iterator[tuple[int, Mailbox]]:
    mailbox, port = Mailbox(), free_tcp_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


def channel(port: int, **settings: Any) -> EmailChannel:
    config = {"host": "127.0.0.1", "port": port, "sender": "PSTG <pstg@localhost>",
              "timeout": 5, **settings}  # fmt: skip
    return EmailChannel(EmailConfig.model_validate(config))


async def test_starttls_with_a_login_delivers_and_its_answer_holds_no_password(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    logins = Logins()
    with smtp_server(
        tls_context=server_context(cert, key), require_starttls=True,
        authenticator=logins, auth_required=True, auth_require_tls=True,
    ) as (port, mailbox):  # fmt: skip
        email = channel(port, security="starttls", ca_file=str(cert),
                        username=USER, password=PASSWORD)  # fmt: skip
        answer = await email.send(NOTICE, ALICE, notification_id="n-1", now=T0)
    assert logins.tried == [(USER, PASSWORD)]  # sent only after STARTTLS (auth_require_tls)
    assert [m["To"] for m in mailbox.messages] == ["alice@localhost"]
    assert "accepted" in answer
    assert PASSWORD not in answer


async def test_implicit_tls_delivers(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with smtp_server(ssl_context=server_context(cert, key)) as (port, mailbox):
        await channel(port, security="ssl", ca_file=str(cert)).send(
            NOTICE, ALICE, notification_id="n-2", now=T0
        )
    assert len(mailbox.messages) == 1


async def test_a_server_without_starttls_is_refused_before_anything_is_sent() -> None:
    logins = Logins()
    with smtp_server(authenticator=logins, auth_require_tls=False) as (port, mailbox):
        email = channel(port, security="starttls", username=USER, password=PASSWORD)
        with pytest.raises(DeliveryError, match="STARTTLS") as refused:
            await email.send(NOTICE, ALICE, notification_id="n-3", now=T0)
    assert refused.value.permanent  # no retries: notification_failed calls the next channel
    assert logins.tried == []  # the password never crossed in clear text
    assert mailbox.messages == []
    assert PASSWORD not in str(refused.value)


async def test_a_certificate_nobody_vouches_for_is_refused(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    with (
        smtp_server(tls_context=server_context(cert, key), require_starttls=True) as (
            port,
            mailbox,
        ),
        pytest.raises(DeliveryError, match=r"(?i)certificate") as refused,
    ):
        await channel(port, security="starttls").send(NOTICE, ALICE, notification_id="n-4", now=T0)
    assert refused.value.permanent
    assert mailbox.messages == []
