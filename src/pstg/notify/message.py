"""What a notification says: plain data, and its renderings for each channel.

    AlarmInfo   an alarm at one step of its lifecycle (what the alarm event carries, with the
                rule's tag, message and description)
    Notice      one thing to tell about one alarm: raised, escalated, a reminder, acknowledged,
                cleared, masked, a test
    Digest      several notices for one person at once, during an alarm flood
    Recipient   a person as a channel reaches them

`subject`, `text` and `short_text` render them for e-mail and SMS/voice gateways; the JSON
document for webhooks is `pstg.notify.document`. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from pstg.times import format_instant


class NoticeKind(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"
    REMINDER = "reminder"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    MASKED = "masked"
    """Shelved, suppressed or taken out of service: nobody needs to come any more."""
    TEST = "test"
    """A test notification asked for by a person (`pstg notify test`)."""
    SELF_TEST = "self_test"
    """The scheduled alarm self-test."""


_HEADLINES = {
    NoticeKind.RAISED: "ALARM",
    NoticeKind.ESCALATED: "ALARM (escalated)",
    NoticeKind.REMINDER: "ALARM (still unacknowledged)",
    NoticeKind.ACKNOWLEDGED: "Acknowledged",
    NoticeKind.CLEARED: "Cleared",
    NoticeKind.MASKED: "No longer annunciated",
    NoticeKind.TEST: "TEST",
    NoticeKind.SELF_TEST: "SELF-TEST",
}


@dataclass(frozen=True, slots=True)
class AlarmInfo:
    """An alarm at one step of its lifecycle."""

    alarm_id: str
    station_id: str
    station_name: str
    priority: str
    state: str
    previous: str
    reason: str
    ts: datetime
    message: str = ""
    """The rule's message (`Wet well high`), may be empty."""
    description: str = ""
    """The rule in one line (`wet_well.level high >= 3.2`)."""
    tag: str | None = None
    """The tag (or device) the alarm is about; None for the gateway's own alarms."""
    value: float | str | None = None
    unit: str = ""
    user: str | None = None
    """Who acted, for an acknowledgement or a shelve."""

    @property
    def title(self) -> str:
        return self.message or self.description or self.alarm_id

    @property
    def value_text(self) -> str:
        if self.value is None:
            return "-"
        text = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        return f"{text} {self.unit}".strip()


@dataclass(frozen=True, slots=True)
class Told:
    """A raise, escalation or reminder of an alarm, as the journal has it: its delivery ended
    (delivered, or failed after the last try)."""

    alarm_id: str
    route: str
    level: int
    """0 for the first level, as in `Notice`."""
    recipient: str
    """The person's name."""
    kind: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing to tell about one alarm."""

    kind: NoticeKind
    alarm: AlarmInfo
    route: str | None = None
    level: int = 0
    """0 for the first level; escalations count up."""
    console_url: str = ""

    @property
    def link(self) -> str:
        """The console, opened at this alarm."""
        if not self.console_url:
            return ""
        return f"{self.console_url}?alarm={quote(self.alarm.alarm_id, safe='')}"

    @property
    def alarm_ids(self) -> list[str]:
        return [self.alarm.alarm_id]


@dataclass(frozen=True, slots=True)
class Digest:
    """Several notices for one person, sent together during an alarm flood."""

    notices: tuple[Notice, ...]
    station_id: str
    station_name: str
    since: datetime
    console_url: str = ""
    kind: NoticeKind = field(default=NoticeKind.RAISED, init=False)

    @property
    def link(self) -> str:
        return self.console_url

    @property
    def alarm_ids(self) -> list[str]:
        return list(dict.fromkeys(notice.alarm.alarm_id for notice in self.notices))


Content = Notice | Digest


def station_label(station_id: str, station_name: str) -> str:
    return f"{station_name} ({station_id})" if station_name else station_id


def subject(content: Content) -> str:
    """A one-line summary: the e-mail subject."""
    if isinstance(content, Digest):
        station = station_label(content.station_id, content.station_name)
        raised = sum(1 for n in content.notices if n.kind is not NoticeKind.CLEARED)
        return (
            f"[{station}] ALARM FLOOD: {len(content.alarm_ids)} alarm(s), "
            f"{raised} notice(s) since {format_instant(content.since)}"
        )
    alarm = content.alarm
    station = station_label(alarm.station_id, alarm.station_name)
    head = _HEADLINES[content.kind]
    return f"[{station}] {head} {alarm.priority.upper()}: {alarm.title} = {alarm.value_text}"


def text(content: Content) -> str:
    """The whole message, plain text: the e-mail body."""
    if isinstance(content, Digest):
        lines = [
            subject(content),
            "",
            "More alarms than EEMUA 191's flood threshold: one message per interval instead "
            "of one per alarm.",
            "",
        ]
        lines += [f"- {_line(notice)}" for notice in content.notices]
        if content.link:
            lines += ["", f"Console: {content.link}"]
        return "\n".join(lines) + "\n"
    alarm = content.alarm
    lines = [
        subject(content),
        "",
        f"Station:  {station_label(alarm.station_id, alarm.station_name)}",
        f"Alarm:    {alarm.alarm_id}",
        f"Tag:      {alarm.tag or '-'}",
        f"Value:    {alarm.value_text}",
        f"Priority: {alarm.priority}",
        f"State:    {alarm.state} (was {alarm.previous}: {alarm.reason})",
        f"Time:     {format_instant(alarm.ts)}",
    ]
    if alarm.description:
        lines.append(f"Rule:     {alarm.description}")
    if alarm.user:
        lines.append(f"By:       {alarm.user}")
    if content.route is not None:
        lines.append(f"Route:    {content.route}, level {content.level + 1}")
    if content.kind in (NoticeKind.TEST, NoticeKind.SELF_TEST):
        lines += ["", "This is a test: nothing is wrong at the station."]
    if content.link:
        lines += ["", f"Console: {content.link}"]
    return "\n".join(lines) + "\n"


def short_text(content: Content, limit: int = 300) -> str:
    """A text for an SMS or a voice call: the essentials first, cut at `limit` characters."""
    if isinstance(content, Digest):
        ids = content.alarm_ids
        shown = ", ".join(ids[:5]) + (f" +{len(ids) - 5}" if len(ids) > 5 else "")
        body = f"{content.station_id} ALARM FLOOD: {len(ids)} alarms: {shown}"
    else:
        alarm = content.alarm
        head = _HEADLINES[content.kind]
        body = (
            f"{alarm.station_id} {head} {alarm.priority}: {alarm.title}"
            f" ({alarm.tag or alarm.alarm_id} = {alarm.value_text})"
        )
        if alarm.user and content.kind in (NoticeKind.ACKNOWLEDGED, NoticeKind.MASKED):
            body += f" by {alarm.user}"
    return body if len(body) <= limit else body[: limit - 1] + "…"


def _line(notice: Notice) -> str:
    alarm = notice.alarm
    return (
        f"{format_instant(alarm.ts)} {notice.kind.value} {alarm.priority} {alarm.alarm_id}: "
        f"{alarm.title} = {alarm.value_text}"
    )
