"""The `notifications:` section of station.yaml: channels, people, rotas, routes, self-test and
heartbeat (docs/notifications.md describes each key).

Field-level checks live here (a time zone that exists, `HH:MM` times, a webhook URL that is
http or https); the checks that need the whole section (a route naming a person who does not
exist, a person nobody can reach) are `check_notifications`, run by `pstg.config.checks`.

Secrets (the SMTP password, a webhook's signing secret) are written in the file or, better,
named as an environment variable: `password: {env: PSTG_SMTP_PASSWORD}`. Either way `/config`
shows them as `***` and nothing logs them (`SecretValue` hides its text from `repr`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, time
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pstg.config.durations import Seconds
from pstg.errors import Invalid

NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
EMAIL_CHANNEL = "email"
"""The name of the e-mail channel in a person's `via`; webhooks are named by their `name`."""
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NotifyPriority = Literal["critical", "high", "medium", "low"]
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvSecret(_Strict):
    """A secret kept out of the file: the name of the environment variable that holds it."""

    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)


Secret = str | EnvSecret
"""A secret as written: the text itself, or `{env: NAME}`."""


class SecretValue:
    """A resolved secret: `reveal()` gives the text; `repr` and `str` never do."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def reveal(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return "SecretValue('***')"

    __str__ = __repr__


class MissingSecret(Invalid):
    """A secret names an environment variable that is not set."""


def resolve_secret(secret: Secret | None) -> SecretValue | None:
    """The text of `secret` (reading the environment for `{env: NAME}`); MissingSecret when
    the variable is not set, None when there is no secret."""
    if secret is None:
        return None
    if isinstance(secret, EnvSecret):
        value = os.environ.get(secret.env)
        if value is None:
            raise MissingSecret(
                f"environment variable {secret.env} is not set (a secret of notifications:)"
            )
        return SecretValue(value)
    return SecretValue(secret)


def parse_clock(value: object) -> time:
    """`"06:00"` (or a time) as a time of day; ValueError for anything else."""
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 readers turn 06:00 into 360 (sexagesimal); say what to write instead.
        raise ValueError(f'write the time as text in quotes, e.g. "06:00" (got {value})')
    match = _CLOCK.match(str(value).strip())
    if match is None:
        raise ValueError(f'{value!r} is not a time of day like "06:00" or "19:30"')
    return time(int(match[1]), int(match[2]))


def check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (an IANA name such as America/Chicago or UTC)"
        ) from None
    return value


class EmailConfig(_Strict):
    """The SMTP server e-mails go through."""

    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    """None: 587 for starttls, 465 for ssl, 25 for none."""
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: Secret | None = None
    sender: str = Field(min_length=3, max_length=320)
    """The From address, e.g. `PSTG ps-01 <pstg@localhost>`."""
    timeout: Seconds = 10.0
    ca_file: str | None = None
    """PEM file of the CA that signed the server's certificate, when not a public one."""

    @property
    def server_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"starttls": 587, "ssl": 465, "none": 25}[self.security]

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        return self


WebhookTemplate = Literal["json", "sms", "voice"]


class WebhookConfig(_Strict):
    """An HTTP endpoint that takes notifications: a JSON document (`template: json`), or a
    short text for an SMS or voice gateway (`sms`, `voice`), POSTed and signed."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    url: str = Field(max_length=2000)
    secret: Secret | None = None
    """Key of the HMAC-SHA256 signature in `X-PSTG-Signature`; None: unsigned."""
    template: WebhookTemplate = "json"
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers (a gateway's `Authorization`, say); their values are secrets."""
    timeout: Seconds = 10.0

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator("name")
    @classmethod
    def _not_email(cls, value: str) -> str:
        if value == EMAIL_CHANNEL:
            raise ValueError(f"{EMAIL_CHANNEL!r} is the e-mail channel's name; choose another")
        return value


class PersonConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()\-]{3,32}$")
    """For SMS and voice webhooks, e.g. `+1 555 0100`."""
    via: list[str] | None = None
    """Channels that reach this person: `email` and webhook names; default `[email]` when
    an e-mail address is given."""

    @property
    def channels(self) -> list[str]:
        if self.via is not None:
            return list(self.via)
        return [EMAIL_CHANNEL] if self.email is not None else []


class GroupConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    members: list[str] = Field(min_length=1)
    """People (by name)."""


class ShiftConfig(_Strict):
    """From `start` on each of `days`, `on_call` is on call until the next shift starts."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    start: time
    on_call: list[str] = Field(min_length=1)
    """People or groups."""

    @field_validator("start", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return parse_clock(value)


class HolidaysConfig(_Strict):
    """On these dates (in the rota's time zone, the whole day) `on_call` is on call."""

    dates: list[date] = Field(default_factory=list)
    on_call: list[str] = Field(min_length=1)


class RotaConfig(_Strict):
    """An on-call rota: weekly shifts in a time zone, with holidays."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    time_zone: str = "UTC"
    shifts: list[ShiftConfig] = Field(min_length=1)
    holidays: HolidaysConfig | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)


class LevelConfig(_Strict):
    """One step of escalation: who, and how long after the alarm if nobody acknowledged."""

    after: Seconds = 0.0
    to: list[str] = Field(min_length=1)
    """People, groups or rotas."""


class RouteConfig(_Strict):
    """Which alarms go to whom: every filter given must match (a missing one matches all)."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    priorities: list[NotifyPriority] | None = None
    stations: list[str] | None = None
    """Station id patterns (`ps-*`)."""
    tags: list[str] | None = None
    """Patterns of the alarm's tag, device or id (`wet_well.*`, `pump?.*`)."""
    levels: list[LevelConfig] = Field(min_length=1)
    repeat: Seconds = 0.0
    """Re-notify everyone told so far this often until the alarm is acknowledged (0: never)."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.levels[0].after != 0:
            raise ValueError("the first level is told at once: its `after` must be 0")
        for before, level in zip(self.levels, self.levels[1:], strict=False):
            if level.after <= before.after:
                raise ValueError("each level's `after` must be later than the one before")
        if self.repeat < 0:
            raise ValueError("repeat must not be negative")
        return self


class RetryConfig(_Strict):
    attempts: int = Field(default=5, ge=1, le=20)
    """Tries per notification, the first one included."""
    first: Seconds = 10.0
    """Wait before the second try; it doubles for each one after, up to `max`."""
    max: Seconds = 300.0


class FloodConfig(_Strict):
    """EEMUA 191's alarm flood: more than `alarms` alarms in `window`."""

    alarms: int = Field(default=10, ge=1)
    window: Seconds = 600.0
    digest_every: Seconds = 300.0
    """During a flood each person gets one digest this often instead of a message per alarm."""


class FailureAlarmConfig(_Strict):
    """The `notification_failed` alarm: raised when a notification could not be delivered."""

    priority: NotifyPriority = "high"
    to: list[str] = Field(default_factory=list)
    """Also tell these (people, groups or rotas), best on another channel than the one that
    fails, whatever the routes say."""


class SelfTestConfig(_Strict):
    """A daily alarm self-test: a test alarm through every route (Texas 30 TAC §217.63(d))."""

    at: time
    time_zone: str = "UTC"
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)

    @field_validator("at", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return parse_clock(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)


class MqttHeartbeatConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    topic: str = Field(min_length=1, max_length=512)
    username: str | None = None
    password: Secret | None = None


class HeartbeatConfig(_Strict):
    """A sign of life for an external dead-man's switch, sent every `interval`."""

    url: str | None = None
    """Requested (GET) every interval; a dead-man's switch alarms when the requests stop."""
    mqtt: MqttHeartbeatConfig | None = None
    interval: Seconds = 60.0
    timeout: Seconds = 10.0

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if self.url is None and self.mqtt is None:
            raise ValueError("a heartbeat needs url or mqtt (or both)")
        if self.interval < 1:
            raise ValueError("interval must be at least 1s")
        return self


class NotificationsConfig(_Strict):
    """Everything about alarms reaching people."""

    console_url: str | None = None
    """The console's address in messages; None: the API's (`http://host:port/`)."""
    email: EmailConfig | None = None
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    people: list[PersonConfig] = Field(default_factory=list)
    groups: list[GroupConfig] = Field(default_factory=list)
    rotas: list[RotaConfig] = Field(default_factory=list)
    routes: list[RouteConfig] = Field(default_factory=list)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    queue_size: int = Field(default=1000, ge=1, le=1_000_000)
    """Notifications each channel holds waiting at most; beyond, they are journaled as
    dropped and `notification_failed` is raised."""
    flood: FloodConfig = Field(default_factory=FloodConfig)
    failure_alarm: FailureAlarmConfig = Field(default_factory=FailureAlarmConfig)
    self_test: SelfTestConfig | None = None
    heartbeat: HeartbeatConfig | None = None

    def channel_names(self) -> list[str]:
        """The channels configured: `email` (when there is an SMTP server) and the webhooks."""
        return ([EMAIL_CHANNEL] if self.email is not None else []) + [
            hook.name for hook in self.webhooks
        ]

    def names(self) -> Iterator[tuple[str, str]]:
        """(kind, name) of every person, group and rota."""
        for person in self.people:
            yield "person", person.name
        for group in self.groups:
            yield "group", group.name
        for rota in self.rotas:
            yield "rota", rota.name
