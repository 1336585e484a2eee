"""Test notifications (`pstg notify test`, `POST /api/v1/notifications/test`): a test message
to a person, group or rota on every channel that reaches them, one try each, journaled, the
result audited. The running gateway's sinks send it through their own deliverers; the command
line, which may run while the gateway is down, builds the channels from the config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from pstg.audit import Actor, AuditEntry, record
from pstg.config.models import StationConfig
from pstg.model import utc_now
from pstg.notify.channels import Channel
from pstg.notify.delivery import Deliverer, Outcome, Record
from pstg.notify.planner import Planner


class UnknownRecipient(LookupError):
    """No person, group or rota of that name (or no notifications configured)."""


def check_recipient(config: StationConfig, name: str) -> None:
    """UnknownRecipient unless `name` is a person, group or rota of the config."""
    section = config.notifications
    if section is None:
        raise UnknownRecipient("no notifications are configured (notifications: in the config)")
    if not any(known == name for _, known in section.names()):
        raise UnknownRecipient(f"no person, group or rota named {name!r}")


async def send_with_channels(
    config: StationConfig,
    channels: Mapping[str, Channel],
    names: Sequence[str],
    user: str | None,
    record_attempts: Record,
) -> list[Outcome]:
    """The test notification to `names` through `channels` (not a running gateway's)."""
    section = config.notifications
    assert section is not None
    planner = Planner(
        section, channels.keys(), station_id=config.station.id,
        station_name=config.station.name,
    )  # fmt: skip
    deliverer = Deliverer(
        channels, retry=section.retry, queue_size=1, record=record_attempts,
        on_done=lambda outcome: None, clock=utc_now,
    )  # fmt: skip
    try:
        return [
            await deliverer.deliver(outgoing, attempts=1)
            for outgoing in planner.test(names, utc_now(), user)
        ]
    finally:
        await deliverer.close(drain=0)


@dataclass(frozen=True)
class NotifyTestReport:
    to: str
    outcomes: list[Outcome]

    @property
    def delivered(self) -> bool:
        """Something reached someone, and nothing failed."""
        return bool(self.outcomes) and all(outcome.delivered for outcome in self.outcomes)

    def as_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "delivered": self.delivered,
            "deliveries": [
                {
                    "channel": o.outgoing.channel,
                    "recipient": o.outgoing.recipient.name,
                    "delivered": o.delivered,
                    "error": o.error,
                    "detail": o.detail,
                    "notification_id": o.notification_id,
                }
                for o in self.outcomes
            ],
        }


def audit(engine: Engine, actor: Actor, report: NotifyTestReport, comment: str = "") -> None:
    """The audit row of a test notification (blocking)."""
    results = [
        {"channel": d["channel"], "recipient": d["recipient"], "delivered": d["delivered"]}
        for d in report.as_json()["deliveries"]
    ]
    entry = AuditEntry(
        actor=actor,
        action="notify.test",
        target=f"notify:{report.to}",
        new={"deliveries": results, "comment": comment},
        result="ok" if report.delivered else "failed",
        detail="" if report.delivered else _why(report),
    )
    with engine.begin() as connection:
        record(connection, entry)


def _why(report: NotifyTestReport) -> str:
    if not report.outcomes:
        return "no channel of this gateway reaches them"
    failed = [o for o in report.outcomes if not o.delivered]
    return "; ".join(
        f"{o.outgoing.channel} to {o.outgoing.recipient.name}: {o.error}" for o in failed
    )
