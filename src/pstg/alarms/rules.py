"""Alarm rules compiled from the config: fixed ids, timedeltas and each kind's condition.

Compiling happens once, when the engine is built; what the engine does per sample is then a
dict lookup and one comparison. The config (`AlarmConfig`, checked by `pstg check-config`)
says *what* to watch; `AlarmRule` adds what the engine needs to watch it cheaply: the id, the
delays as timedeltas, for comm_loss the set of tags its device delivers and, for
command_failed, the read-back tag and tolerance of the tag's `command` block.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from pstg.config.models import (
    DEFAULT_COMM_LOSS_TIMEOUT,
    LIMIT_KINDS,
    AlarmConfig,
    AlarmKind,
    CommandConfig,
    Priority,
    StationConfig,
)

STARTS_WINDOW = timedelta(hours=1)
"""The sliding window of a starts_per_hour rule."""

_RISING = frozenset({"high_high", "high"})


class RuleError(ValueError):
    """Rules the engine cannot run (two with one id); check-config reports these first."""


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """One compiled alarm rule; `config` is the AlarmConfig it came from."""

    id: str
    kind: AlarmKind
    priority: Priority
    message: str
    tag: str | None
    device: str | None
    feedback: str | None
    limit: float | None
    value: float | None
    deadband: float
    on_delay: timedelta
    off_delay: timedelta
    timeout: timedelta
    suppress_tag: str | None
    suppress_value: float | None
    config: AlarmConfig
    device_tags: frozenset[str] = frozenset()
    """comm_loss: the tags read from the device, whose samples say whether it answers."""
    device_enabled: bool = True
    """comm_loss: a disabled device is not polled on purpose, so its alarm never activates."""
    readback: str | None = None
    """command_failed: the tag whose value shows the plant followed (`command.readback.tag`,
    else the commanded tag itself)."""
    tolerance: float = 0.0
    """command_failed: how far the read-back may be from the value commanded
    (`command.readback.tolerance`)."""

    @property
    def is_limit(self) -> bool:
        return self.kind in LIMIT_KINDS

    def limit_condition(self, value: float, active: bool) -> bool:
        """A limit alarm's condition for `value`, with the deadband as hysteresis.

        A high alarm's condition is `value >= limit` while the alarm is not active and
        `value >= limit - deadband` while it is, so it clears only once the value is back
        below `limit - deadband`; a low alarm mirrors it.
        """
        assert self.limit is not None
        if self.kind in _RISING:
            return value >= (self.limit - self.deadband if active else self.limit)
        return value <= (self.limit + self.deadband if active else self.limit)

    def discrete_condition(self, value: float) -> bool:
        return value == self.value

    def describe(self) -> str:
        """`wet_well.level high >= 3`, `plc1 comm_loss 30s`: the rule in one line, for people."""
        subject = self.tag if self.tag is not None else self.device
        if self.limit is not None and self.is_limit:
            sign = ">=" if self.kind in _RISING else "<="
            return f"{subject} {self.kind} {sign} {self.limit:g}"
        if self.kind == "discrete":
            return f"{subject} == {self.value:g}" if self.value is not None else str(subject)
        if self.kind == "starts_per_hour":
            return f"{subject} more than {self.limit:g} starts per hour"
        if self.kind == "fail_to_start":
            seconds = self.timeout.total_seconds()
            return f"{subject} without {self.feedback} for {seconds:g}s"
        if self.kind == "comm_loss":
            return f"{subject} no good read for {self.timeout.total_seconds():g}s"
        if self.kind == "notification_failed":
            return "a notification was not delivered"
        if self.kind == "command_failed":
            within = f" ± {self.tolerance:g}" if self.tolerance else ""
            return f"{subject} command not followed by {self.readback}{within}"
        return f"{subject} {self.kind}"


def compile_rule(
    alarm: AlarmConfig,
    *,
    device_tags: Collection[str] = (),
    device_enabled: bool = True,
    command: CommandConfig | None = None,
) -> AlarmRule:
    """The rule for one alarm; `device_tags` and `device_enabled` only matter for comm_loss,
    `command` (the command block of the alarm's tag) for command_failed: without it the
    tag reads itself back with no tolerance."""
    default_timeout = DEFAULT_COMM_LOSS_TIMEOUT if alarm.kind == "comm_loss" else 0.0
    timeout = alarm.timeout if alarm.timeout is not None else default_timeout
    suppress = alarm.suppress_when
    readback, tolerance = None, 0.0
    if alarm.kind == "command_failed":
        readback = alarm.tag
        if command is not None:
            readback = command.readback.tag or alarm.tag
            tolerance = command.readback.tolerance
    return AlarmRule(
        id=alarm.alarm_id,
        kind=alarm.kind,
        priority=alarm.priority,
        message=alarm.message,
        tag=alarm.tag,
        device=alarm.device,
        feedback=alarm.feedback,
        limit=alarm.limit,
        value=alarm.value,
        deadband=alarm.deadband,
        on_delay=timedelta(seconds=alarm.on_delay),
        off_delay=timedelta(seconds=alarm.off_delay),
        timeout=timedelta(seconds=timeout),
        suppress_tag=suppress.tag if suppress is not None else None,
        suppress_value=suppress.value if suppress is not None else None,
        config=alarm,
        device_tags=frozenset(device_tags) if alarm.kind == "comm_loss" else frozenset(),
        device_enabled=device_enabled,
        readback=readback,
        tolerance=tolerance,
    )


def compile_rules(
    alarms: Iterable[AlarmConfig],
    *,
    device_tags: Mapping[str, Collection[str]] | None = None,
    disabled_devices: Collection[str] = (),
    commands: Mapping[str, CommandConfig] | None = None,
) -> list[AlarmRule]:
    """Rules for `alarms` in config order; RuleError when two share an id.

    `device_tags` maps a device id to the tag names read from it (comm_loss needs it: without
    it a comm_loss rule sees no reads and activates after its timeout). `commands` maps a tag
    name to its command block (command_failed reads its read-back tag and tolerance there).
    """
    tags_of = device_tags or {}
    command_of = commands or {}
    rules: list[AlarmRule] = []
    seen: set[str] = set()
    for alarm in alarms:
        device = alarm.device or ""
        rule = compile_rule(
            alarm,
            device_tags=tags_of.get(device, ()),
            device_enabled=device not in disabled_devices,
            command=command_of.get(alarm.tag or ""),
        )
        if rule.id in seen:
            raise RuleError(f"two alarms have the id {rule.id!r}; give each an explicit id")
        seen.add(rule.id)
        rules.append(rule)
    return rules


NOTIFICATION_FAILED = "notification_failed"
"""The id of the alarm a station with notifications has even when its `alarms:` do not say."""


def system_alarms(config: StationConfig) -> list[AlarmConfig]:
    """`config.alarms`, and the alarms the gateway raises about itself that they do not list:
    with notifications configured, a notification_failed alarm (priority from
    `notifications.failure_alarm`)."""
    alarms = list(config.alarms)
    section = config.notifications
    if section is not None and not any(a.kind == NOTIFICATION_FAILED for a in alarms):
        alarms.append(
            AlarmConfig(
                kind=NOTIFICATION_FAILED,
                priority=section.failure_alarm.priority,
                message="A notification could not be delivered: call the people on duty",
            )
        )
    return alarms


def station_rules(config: StationConfig) -> list[AlarmRule]:
    """The rules of a whole station, with each device's tags known to its comm_loss rule and
    each commanded tag's read-back known to its command_failed rule, and the gateway's own
    alarms (`system_alarms`)."""
    return compile_rules(
        system_alarms(config),
        device_tags={device.id: [tag.name for tag in device.tags] for device in config.devices},
        disabled_devices={device.id for device in config.devices if not device.enabled},
        commands={
            tag.name: tag.command
            for device in config.devices
            for tag in device.tags
            if tag.command is not None
        },
    )
