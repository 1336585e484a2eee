"""Typed station configuration: the YAML contract of DESIGN.md as pydantic v2 models.

Field-level checks live here; checks that need the whole file (duplicate names, overlapping
registers, unknown drivers) live in `checks.py`, and the loader with line numbers in `loader.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pstg.config.durations import Seconds
from pstg.config.notifications import NotificationsConfig
from pstg.model import DataType, Endian, RegisterTable

TAG_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
MAX_ADDRESS = 65535
MAX_REGISTERS_PER_REQUEST = 125  # Modbus spec limit for FC3/FC4
MAX_BITS_PER_REQUEST = 2000  # Modbus spec limit for FC1/FC2


class _Strict(BaseModel):
    # Unknown keys are typos until proven otherwise: `adress: 4` must not be silently ignored.
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class StationInfo(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", max_length=64)
    name: str = ""


class RetentionConfig(_Strict):
    """How long each level of the time series is kept (0: forever)."""

    raw: Seconds = 90 * 86400.0
    minute: Seconds = 2 * 365 * 86400.0
    ten_minute: Seconds = 5 * 365 * 86400.0
    hour: Seconds = 10 * 365 * 86400.0


class StorageConfig(_Strict):
    # A relative SQLite path is relative to the config file, not to the working directory.
    url: str = "sqlite:///pstg.db"
    heartbeat: Seconds = 300.0
    """A tag's value is stored at least this often even when it does not change."""
    flush_interval: Seconds = 1.0
    batch_size: int = Field(default=5000, ge=1, le=1_000_000)
    max_pending_rows: int = Field(default=1_000_000, ge=1000, le=100_000_000)
    """Samples the writer holds in memory at most; beyond, they go to the spool (about 25
    bytes each: the default is 25 MB, 10 s of 100,000 values/s)."""
    spool: str = "pstg-spool.db"
    """The on-disk buffer used while the database is unavailable (relative: to the config)."""
    spool_max_mb: int = Field(default=512, ge=1)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @field_validator("heartbeat", "flush_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be positive")
        return value


class PollerConfig(_Strict):
    """How polling runs."""

    workers: Literal["auto"] | int = Field(default="auto")
    """Worker processes for the poll loops: 0 polls in the main process; `auto` does so for
    a small station and uses the cores when the load needs them (see docs/performance.md)."""

    @field_validator("workers")
    @classmethod
    def _worker_range(cls, value: Literal["auto"] | int) -> Literal["auto"] | int:
        if value != "auto" and not 0 <= value <= 64:
            raise ValueError("workers must be auto or a number from 0 to 64")
        return value


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ApiConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    allowed_hosts: list[str] | None = None
    """Host names and addresses clients may send in `Host` (a DNS-rebinding guard); `*` any,
    `*.example.com` a domain's names. None: the loopback names and `host`."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or networks (CIDR) of reverse proxies whose `X-Forwarded-For` and
    `X-Forwarded-Proto` are believed; from anyone else those headers are ignored."""
    request_timeout: Seconds = 30.0
    """Longest a request may work (a query, a KPI computation) before it is answered 503."""
    session_lifetime: Seconds = 12 * 3600.0
    """A browser session of the console ends this long after its login (a night shift)."""
    session_idle: Seconds = 30 * 60.0
    """... or this long after its last request (an open console page keeps it alive)."""
    max_streams: int = Field(default=100, ge=1, le=10_000)
    """Live streams (GET /api/v1/stream) open at once at most; more are answered 503."""

    @field_validator("allowed_hosts")
    @classmethod
    def _host_patterns(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        hosts = []
        for host in value:
            host = host.strip().lower().removeprefix("[").removesuffix("]")
            if (
                not host
                or ("*" in host[1:])
                or (host.startswith("*") and host not in ("*",) and not host.startswith("*."))
            ):
                raise ValueError(
                    f"{host!r} is not a host name, an address, '*' or '*.domain'"
                )  # fmt: skip
            hosts.append(host)
        return hosts

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        networks = []
        for item in value:
            try:
                networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or network (e.g. 127.0.0.1 or 127.0.0.0/8)"
                ) from None
        return networks

    @field_validator("request_timeout", "session_lifetime", "session_idle")
    @classmethod
    def _positive_timeout(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    def hosts_allowed(self) -> list[str]:
        """`allowed_hosts`, or by default the loopback names and `host`."""
        if self.allowed_hosts is not None:
            return list(self.allowed_hosts)
        host = self.host.strip().lower().removeprefix("[").removesuffix("]")
        return list(dict.fromkeys((*LOOPBACK_HOSTS, host)))


CommandRole = Literal["viewer", "operator", "engineer", "admin"]
"""The least role that may command a tag (the names of `pstg.auth.roles`, a layer above)."""
COMPARISONS = ("equals", "not_equals", "above", "below")
"""The comparison keys of an interlock condition; each condition has exactly one."""


class _OneComparison(_Strict):
    """A tag compared with one operand: exactly one of `COMPARISONS` is given (subclasses
    declare them with the operand types they take)."""

    _what: ClassVar[str] = "a condition"

    @property
    def comparison(self) -> str:
        """The one comparison key given: equals, not_equals, above or below."""
        return next(key for key in COMPARISONS if getattr(self, key) is not None)

    @model_validator(mode="after")
    def _one_comparison(self) -> Self:
        given = [key for key in COMPARISONS if getattr(self, key) is not None]
        if len(given) != 1:
            got = ", ".join(given) if given else "none"
            raise ValueError(
                f"{self._what} needs exactly one of equals, not_equals, above, below (got {got})"
            )
        return self


class InterlockConfig(_OneComparison):
    """A condition on a live value that must hold for a command to be selected and operated.

    A tag whose live value is bad or stale fails the condition (never assumed to hold).
    """

    tag: str
    equals: float | str | None = None
    """`true`/`false` read as 1/0; text only for a string tag."""
    not_equals: float | str | None = None
    above: float | Literal["value"] | None = None
    """A number, or `value`: the value being commanded (an ordering rule between set points,
    e.g. the stop level must stay below the start level being set)."""
    below: float | Literal["value"] | None = None
    message: str = Field(min_length=1)
    """What the user sees when the condition does not hold, e.g. "pump 1 is not in Auto"."""

    _what: ClassVar[str] = "an interlock"

    @property
    def operand(self) -> float | str:
        """The value the live value is compared with."""
        value: float | str = getattr(self, self.comparison)
        return value


class ReadbackConfig(_Strict):
    """How an operated command is confirmed: the tag that must follow, and how soon."""

    tag: str | None = None
    """The tag read back (e.g. `pump1.running` for `pump1.remote_run`); None: the tag itself."""
    timeout: Seconds = 10.0
    tolerance: float = Field(default=0.0, ge=0)
    """How far the read-back may be from the value sent (engineering units)."""
    equals: float | None = None
    """The value the read-back tag must reach; None: the value commanded. A pulse confirmed
    by another tag needs it (a fault reset: `{tag: pump1.tripped, equals: 0}`)."""

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be positive")
        return value


class CommandConfig(_Strict):
    """What an operator may do with a writable tag: the `command` block (docs/configuration.md).

    `min`/`max` bound a set point, `values` lists an enumeration's allowed values with their
    labels; the two exclude each other. `role` defaults by the tag. The checks that need the
    tag (its type, `writable`) are `TagConfig`'s; those that need the station, `checks.py`'s.
    """

    min: float | None = None
    """Lowest value allowed, in engineering units (before the inverse of scale/offset)."""
    max: float | None = None
    values: dict[int, str] | None = None
    """An enumeration: the only values allowed, each with its label ({0: Off, 1: Hand})."""
    mode: Literal["sbo", "direct"] = "sbo"
    """sbo: select, then operate; direct: one step (for engineer-only tuning)."""
    role: CommandRole = "operator"
    """The least role allowed; unset: operator for a bit or an enumeration, engineer else."""
    interlocks: list[InterlockConfig] = Field(default_factory=list)
    readback: ReadbackConfig = Field(default_factory=ReadbackConfig)
    pulse: bool = False
    """A momentary command (a fault reset): 1 is written and the device clears it."""
    min_interval: Seconds = Field(default=0.0, ge=0)
    """Least time between two operates of this tag."""
    select_timeout: Seconds = 30.0
    """How long a selection waits for its operate before it expires."""

    @field_validator("select_timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("values")
    @classmethod
    def _labels(cls, value: dict[int, str] | None) -> dict[int, str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("an enumeration needs at least one value")
        seen: dict[str, int] = {}
        for key, label in value.items():
            if not label.strip():
                raise ValueError(f"value {key} needs a label")
            if label in seen:
                raise ValueError(f"label {label!r} is given to both {seen[label]} and {key}")
            seen[label] = key
        return value


class TagConfig(_Strict):
    """One named signal and where it comes from on its device."""

    name: str = Field(pattern=TAG_NAME_PATTERN, max_length=128)
    source: RegisterTable
    address: int = Field(ge=0, le=MAX_ADDRESS)
    type: DataType | None = None  # default: bool for coils/discrete inputs, uint16 otherwise
    word_order: Endian | None = None  # None: the device's default
    byte_order: Endian | None = None
    bit: int | None = Field(default=None, ge=0, le=15)
    length: int | None = Field(default=None, ge=1, le=MAX_REGISTERS_PER_REQUEST)
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    description: str = ""
    deadband: float | None = Field(default=None, ge=0)
    sentinels: list[int] = Field(default_factory=list)
    """Raw register values that mean "no reading" (e.g. 0x8000 or 32767 from a failed sensor)."""
    range: tuple[float, float] | None = None
    """Engineering range [low, high]; values outside it get quality uncertain/out_of_range."""
    writable: bool = False
    command: CommandConfig | None = None
    """How operators may command this tag (needs `writable: true`); None: no commands."""

    @property
    def data_type(self) -> DataType:
        """The configured type, or the table's natural default."""
        if self.type is not None:
            return self.type
        return _BOOL if self.source.is_bit_table else _UINT16

    @property
    def register_count(self) -> int:
        """Registers (or bits, in a bit table) this tag occupies."""
        if self.source.is_bit_table:
            return 1
        data_type = self.data_type
        if data_type is _STRING:
            return self.length or 1
        count = data_type.fixed_register_count
        assert count is not None
        return count

    @property
    def end_address(self) -> int:
        """Last address occupied (inclusive)."""
        return self.address + self.register_count - 1

    @model_validator(mode="after")
    def _check_shape(self) -> Self:
        data_type = self.data_type
        if self.source.is_bit_table:
            if data_type is not _BOOL:
                raise ValueError(
                    f"a {self.source.value} holds single bits: type must be bool, not {data_type}"
                )
            if self.bit is not None:
                raise ValueError(f"bit applies to registers, not to a {self.source.value}")
        if self.bit is not None and data_type is not _BOOL:
            raise ValueError(f"bit needs type bool, not {data_type}")
        if self.length is not None and data_type is not _STRING:
            raise ValueError("length applies only to type string")
        if data_type is _STRING and self.length is None:
            raise ValueError("a string tag needs length (number of registers)")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range low {self.range[0]} is above high {self.range[1]}")
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        if self.writable and not self.source.is_writable:
            raise ValueError(f"a {self.source.value} is read-only: it cannot be writable")
        if self.command is not None:
            self._check_command(self.command, data_type)
        return self

    def _check_command(self, command: CommandConfig, data_type: DataType) -> None:
        name = self.name
        if not self.writable:
            raise ValueError(f"tag {name!r} has a command block: it needs writable: true")
        limits = command.min is not None or command.max is not None
        if command.min is not None and command.max is not None and command.min >= command.max:
            raise ValueError(
                f"tag {name!r}: command.min {command.min:g} must be below max {command.max:g}"
            )
        if command.values is not None and limits:
            raise ValueError(
                f"tag {name!r}: command.values (an enumeration) and min/max exclude each other"
            )
        if command.pulse and limits:
            raise ValueError(f"tag {name!r}: command.pulse always writes 1: min/max do not apply")
        if data_type is _STRING and (limits or command.values is not None or command.pulse):
            raise ValueError(
                f"tag {name!r} is text: command.min, max, values and pulse do not apply"
            )
        if data_type is _BOOL and limits:
            raise ValueError(f"tag {name!r} is a bool: command.min/max do not apply")
        if (
            command.pulse
            and command.readback.tag not in (None, name)
            and (command.readback.equals is None)
        ):
            raise ValueError(
                f"tag {name!r}: a pulse confirmed by {command.readback.tag!r} needs "
                "readback.equals (the value that tag must reach, e.g. 0 for a tripped bit)"
            )
        if command.pulse and data_type is not _BOOL and 1 not in (command.values or {}):
            raise ValueError(
                f"tag {name!r}: command.pulse writes 1, so it needs a bool tag "
                "or values (an enumeration) with 1"
            )
        if "role" not in command.model_fields_set and data_type is not _BOOL:
            # A set point changes how the station runs: tuning is an engineer's; choosing
            # among labelled states (Off/Hand/Auto) or a start/stop bit is an operator's.
            command.role = "operator" if command.values is not None else "engineer"


# Members as constants for the per-tag properties: an enum member lookup costs about 1 µs.
_BOOL, _UINT16, _STRING = DataType.BOOL, DataType.UINT16, DataType.STRING


class DeviceConfig(_Strict):
    """One Modbus slave (or other driver's device) and its tags."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", max_length=64)
    driver: str = "modbus-tcp"
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    serial_port: str | None = None  # modbus-rtu: /dev/ttyUSB0, COM3, ...
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "E"
    """Even by default, as the Modbus serial line specification requires of every device
    (Modbus over Serial Line v1.02, section 2.5.1); many devices ship set to N."""
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    poll_interval: Seconds = 1.0
    timeout: Seconds = 1.0
    retries: int = Field(default=0, ge=0, le=10)
    word_order: Endian = Endian.BIG
    byte_order: Endian = Endian.BIG
    max_registers_per_request: int = Field(default=MAX_REGISTERS_PER_REQUEST, ge=1, le=125)
    max_bits_per_request: int = Field(default=MAX_BITS_PER_REQUEST, ge=1, le=2000)
    max_gap: int = Field(default=10, ge=0, le=124)
    """Unused registers a request may span to save a round trip (0: never read unmapped ones)."""
    max_bit_gap: int = Field(default=64, ge=0, le=1999)
    pause_between_requests: Seconds = 0.0
    """Quiet time on a shared line between two requests (small RTU gateways need it)."""
    backoff_initial: Seconds = 1.0
    backoff_max: Seconds = 60.0
    options: dict[str, Any] = Field(default_factory=dict)
    """Free-form settings for third-party drivers; built-in drivers take none."""
    tags: list[TagConfig] = Field(default_factory=list)

    @field_validator("poll_interval")
    @classmethod
    def _positive_interval(cls, value: float) -> float:
        if value < 0.01:
            raise ValueError("poll_interval must be at least 10ms")
        return value

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("timeout must be greater than 0")
        return value

    @model_validator(mode="after")
    def _check_backoff(self) -> Self:
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must not be below backoff_initial")
        return self

    def word_order_of(self, tag: TagConfig) -> Endian:
        return tag.word_order or self.word_order

    def byte_order_of(self, tag: TagConfig) -> Endian:
        return tag.byte_order or self.byte_order


AlarmKind = Literal[
    "high_high",
    "high",
    "low",
    "low_low",
    "discrete",
    "bad_quality",
    "comm_loss",
    "fail_to_start",
    "starts_per_hour",
    "command_failed",
    "notification_failed",
    "compound",
    "rate_of_change",
    "frozen",
    "run_too_long",
    "out_of_band",
]
Priority = Literal["critical", "high", "medium", "low"]

LIMIT_KINDS: frozenset[str] = frozenset({"high_high", "high", "low", "low_low"})
DEFAULT_COMM_LOSS_TIMEOUT = 30.0
"""Seconds without a good read before a comm_loss alarm's condition is true, unless set."""
ALARM_ID_PATTERN = r"^[A-Za-z0-9_.\-]+$"
LIMIT_SOURCE_SUFFIX = ".limit_source"
"""The id of the alarm raised while a limit tag's reads are bad: `<limit tag>.limit_source`."""

# Which optional keys each kind reads; any other one given is a mistake worth reporting
# (a `limit` on a discrete alarm means the author expected it to do something).
_KIND_KEYS: dict[str, frozenset[str]] = {
    **{kind: frozenset({"tag", "limit", "deadband"}) for kind in LIMIT_KINDS},
    "discrete": frozenset({"tag", "value"}),
    "bad_quality": frozenset({"tag"}),
    "comm_loss": frozenset({"device", "timeout"}),
    "fail_to_start": frozenset({"tag", "feedback", "timeout"}),
    "starts_per_hour": frozenset({"tag", "limit"}),
    "command_failed": frozenset({"tag"}),
    "notification_failed": frozenset(),
    "compound": frozenset({"all_of", "any_of"}),
    "rate_of_change": frozenset({"tag", "limit", "per", "deadband"}),
    "frozen": frozenset({"tag", "band", "timeout", "while_"}),
    "run_too_long": frozenset({"tag", "timeout"}),
    "out_of_band": frozenset({"tag", "low", "high", "deadband"}),
}
SYSTEM_KINDS: frozenset[str] = frozenset({"notification_failed"})
"""Kinds about the gateway itself, on no tag or device: their id defaults to the kind."""
_KIND_SPECIFIC_KEYS = frozenset().union(*_KIND_KEYS.values())
_KEY_NAMES = {"all_of": "all", "any_of": "any", "while_": "while"}
"""Fields whose YAML key is another word (a Python keyword or builtin)."""


class SuppressCondition(_Strict):
    """While tag `tag` equals `value`, the alarm is suppressed by design (not annunciated)."""

    tag: str
    value: float


class LimitTag(_Strict):
    """A limit read from a tag (`limit: {tag: setpoint.high_level}`): the alarm follows the
    PLC's set point instead of a duplicated constant."""

    tag: str


Limit = float | LimitTag
"""A limit: a number, or the tag whose value is the limit."""


class ConditionTerm(_OneComparison):
    """One comparison of a tag's value: `{tag: pump1.running, equals: 1}`.

    The grammar of a command interlock (`InterlockConfig`), on numbers only: `true`/`false`
    read as 1/0. A bad value makes the term unknown, neither true nor false.
    """

    tag: str
    equals: float | None = None
    not_equals: float | None = None
    above: float | None = None
    below: float | None = None

    @property
    def operand(self) -> float:
        value: float = getattr(self, self.comparison)
        return value


class ConditionGroup(_Strict):
    """`{all: [terms]}` (every term holds) or `{any: [terms]}` (at least one does)."""

    all_of: list[ConditionTerm] | None = Field(default=None, alias="all")
    any_of: list[ConditionTerm] | None = Field(default=None, alias="any")

    @property
    def mode(self) -> Literal["all", "any"]:
        return "all" if self.all_of is not None else "any"

    @property
    def terms(self) -> list[ConditionTerm]:
        return self.all_of if self.all_of is not None else self.any_of or []

    @model_validator(mode="after")
    def _one_list(self) -> Self:
        _check_group(self.all_of, self.any_of)
        return self


def _check_group(all_of: list[ConditionTerm] | None, any_of: list[ConditionTerm] | None) -> None:
    if (all_of is None) == (any_of is None):
        raise ValueError("a condition needs exactly one of all, any (a list of conditions)")
    if not (all_of or any_of):
        raise ValueError("the list of conditions is empty")


class AlarmConfig(_Strict):
    """One alarm rule; `pstg.alarms` compiles these, docs/alarms.md describes each kind."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, populate_by_name=True)

    id: str | None = Field(default=None, pattern=ALARM_ID_PATTERN, max_length=128)
    """Unique alarm id; default `<tag or device>.<kind>` (see `alarm_id`); a compound alarm
    needs one."""
    tag: str | None = None
    """The watched tag; for fail_to_start the run command, for starts_per_hour and
    run_too_long the running feedback, for command_failed the commanded tag (it needs a
    `command` block)."""
    device: str | None = None  # for comm_loss
    kind: AlarmKind
    limit: Limit | None = None
    """Limit alarms: a number or `{tag: ...}`; starts_per_hour: starts allowed per hour;
    rate_of_change: the change per `per` (positive: rising faster, negative: falling faster)."""
    value: float | None = None  # for discrete
    feedback: str | None = None  # for fail_to_start: the running feedback tag
    timeout: Seconds | None = None
    """comm_loss (default 30s); fail_to_start, frozen and run_too_long (required)."""
    deadband: float = Field(default=0.0, ge=0)
    per: Seconds | None = None  # rate_of_change: the time the change is measured over
    band: float | None = Field(default=None, ge=0)
    """frozen: how far the value may wander and still count as stuck."""
    low: Limit | None = None  # out_of_band: the lower end of the band
    high: Limit | None = None  # out_of_band: the upper end of the band
    all_of: list[ConditionTerm] | None = Field(default=None, alias="all")
    """compound: true while every one of these holds."""
    any_of: list[ConditionTerm] | None = Field(default=None, alias="any")
    """compound: true while at least one of these holds."""
    while_: ConditionGroup | None = Field(default=None, alias="while")
    """frozen: only while this holds (e.g. any pump runs) does a still value mean anything."""
    on_delay: Seconds = 0.0
    off_delay: Seconds = 0.0
    priority: Priority = "medium"
    message: str = ""
    suppress_when: SuppressCondition | None = None

    @property
    def alarm_id(self) -> str:
        """The configured id, or `<tag or device>.<kind>` (e.g. `wet_well.level.high`)."""
        if self.id is not None:
            return self.id
        if self.kind in SYSTEM_KINDS:
            return self.kind
        return f"{self.tag if self.tag is not None else self.device}.{self.kind}"

    def limit_tags(self) -> list[str]:
        """The tags this alarm reads its limits from (`limit`, `low`, `high`: `{tag: ...}`)."""
        return [
            limit.tag for limit in (self.limit, self.low, self.high) if isinstance(limit, LimitTag)
        ]

    @model_validator(mode="after")
    def _check_kind_fields(self) -> Self:
        kind = self.kind
        if kind in LIMIT_KINDS and self.limit is None:
            raise ValueError(f"a {kind} alarm needs limit")
        if kind == "discrete" and self.value is None:
            raise ValueError("a discrete alarm needs value")
        if kind == "comm_loss":
            if self.device is None:
                raise ValueError("a comm_loss alarm needs device")
        elif kind in SYSTEM_KINDS:
            if self.tag is not None or self.device is not None:
                raise ValueError(f"a {kind} alarm is about the gateway: it takes no tag or device")
        elif kind == "compound":
            if self.id is None:
                raise ValueError("a compound alarm needs id (it watches no single tag)")
            _check_group(self.all_of, self.any_of)
        elif self.tag is None:
            raise ValueError(f"a {kind} alarm needs tag")
        if kind in ("fail_to_start", "frozen", "run_too_long") and self.timeout is None:
            example = "15s" if kind == "fail_to_start" else "30m"
            raise ValueError(f"a {kind} alarm needs timeout (e.g. {example})")
        if kind == "fail_to_start" and self.feedback is None:
            raise ValueError("a fail_to_start alarm needs feedback (the running feedback tag)")
        if kind == "starts_per_hour":
            limit = self.limit
            if limit is None:
                raise ValueError("a starts_per_hour alarm needs limit (starts allowed per hour)")
            if not isinstance(limit, float) or limit < 0 or not limit.is_integer():
                raise ValueError(
                    f"limit {_limit_text(limit)} of a starts_per_hour alarm must be a whole "
                    "number >= 0"
                )
        if kind == "rate_of_change":
            self._check_rate()
        if kind == "frozen" and self.band is None:
            raise ValueError("a frozen alarm needs band (how far a stuck value may wander)")
        if kind == "out_of_band":
            self._check_band()
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be greater than 0")
        # A key left at its default says nothing (a dumped config lists every key).
        given = {
            _KEY_NAMES.get(key, key)
            for key in (self.model_fields_set & _KIND_SPECIFIC_KEYS) - _KIND_KEYS[kind]
            if getattr(self, key) != type(self).model_fields[key].default
        }
        if given:
            keys = ", ".join(sorted(given))
            raise ValueError(
                f"{keys} {'does' if len(given) == 1 else 'do'} not apply to {_a(kind)} alarm"
            )
        return self

    def _check_rate(self) -> None:
        limit = self.limit
        if limit is None or self.per is None:
            raise ValueError(
                "a rate_of_change alarm needs limit and per (e.g. limit: 0.3, per: 1m: rising "
                "0.3 or more in a minute; a negative limit watches falling)"
            )
        if not isinstance(limit, float) or limit == 0:
            raise ValueError(
                f"limit {_limit_text(limit)} of a rate_of_change alarm must be a number other "
                "than 0 (positive: rising, negative: falling)"
            )
        if self.per <= 0:
            raise ValueError("per must be greater than 0")

    def _check_band(self) -> None:
        if self.low is None or self.high is None:
            raise ValueError("an out_of_band alarm needs low and high (numbers or {tag: ...})")
        low, high = self.low, self.high
        if isinstance(low, float) and isinstance(high, float) and not low < high:
            raise ValueError(f"low {low:g} must be below high {high:g}")

    @model_validator(mode="after")
    def _check_limit_tags(self) -> Self:
        if isinstance(self.limit, LimitTag) and self.kind not in LIMIT_KINDS:
            raise ValueError(
                f"a {self.kind} alarm takes a number as limit; only limit alarms "
                "(high_high, high, low, low_low) read their limit from a tag"
            )
        return self


def _a(kind: str) -> str:
    """`a high`, `an out_of_band`."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _limit_text(limit: Limit) -> str:
    return f"{{tag: {limit.tag}}}" if isinstance(limit, LimitTag) else f"{limit:g}"


class StationConfig(_Strict):
    """The whole station.yaml."""

    station: StationInfo
    storage: StorageConfig = Field(default_factory=StorageConfig)
    poller: PollerConfig = Field(default_factory=PollerConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    devices: list[DeviceConfig] = Field(default_factory=list)
    alarms: list[AlarmConfig] = Field(default_factory=list)
    notifications: NotificationsConfig | None = None
    """Alarms reaching people (docs/notifications.md); None: nothing leaves the gateway."""
