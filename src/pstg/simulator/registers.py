"""The simulator's Modbus face: which register holds which value of the process model.

One table of `Point`s is the single source of truth for three things that must agree: the
register image the simulated PLC serves, what a write to a register does to the process, and
the tags of the example `station.yaml` (`pstg seed`). docs/simulator.md shows the same table,
and a test keeps the two identical.

The encodings are deliberately mixed, as in a real PLC: float32 in both word orders, uint32
counters in both word orders, uint16/int16 scaled by 10 or 100, status words with bits, and
text. Encoding goes through the collector's own codec (`compile_tag`), so the simulator and the
collector share one definition of every type and order; the codec has its own reference tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from pstg.codec import CodecError, TagCodec, compile_tag, encode_value
from pstg.config.models import DeviceConfig, TagConfig
from pstg.model import DataType, Endian, RegisterTable
from pstg.simulator.process import Hoa, Pump, PumpStation, StationDesign

FIRMWARE = "PSTG-SIM 1.0"
NAME_REGISTERS = 16
"""Registers of the station name string (2 characters each)."""
FIRMWARE_REGISTERS = 6

PUMP_INPUT_BASE = 30
"""Input register of pump 1's block; pump n's block starts PUMP_INPUT_STRIDE registers later."""
PUMP_INPUT_STRIDE = 10
PUMP_COIL_STRIDE = 4
PUMP_DISCRETE_BASE = 8
PUMP_DISCRETE_STRIDE = 4
HOA_HOLDING_BASE = 10

Reading = Callable[[PumpStation], float | bool | str]
Writing = Callable[[PumpStation, float], None]

ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3


class WriteRefused(Exception):
    """A write the simulated PLC rejects, with the Modbus exception code it answers."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Point:
    """One value of the process at one place in the register map.

    `read` gives the engineering value (what a correctly configured tag decodes); `write`, for
    writable points, applies an engineering value to the process. A set point instead names
    the `SetPoints` field in `setpoint`, so one request writing several set points is validated
    as a whole. A point with `bit` is one bit of a status word that another point encodes.
    """

    name: str
    table: RegisterTable
    address: int
    read: Reading
    type: DataType | None = None
    word_order: Endian = Endian.BIG
    scale: float = 1.0
    unit: str = ""
    description: str = ""
    bit: int | None = None
    length: int | None = None
    write: Writing | None = None
    setpoint: str | None = None
    deadband: float | None = None
    value_range: tuple[float, float] | None = None
    sentinels: tuple[int, ...] = ()

    @property
    def writable(self) -> bool:
        return self.write is not None or self.setpoint is not None

    def tag(self) -> TagConfig:
        """The tag that reads this point correctly (as `pstg seed` writes it)."""
        return TagConfig(
            name=self.name,
            source=self.table,
            address=self.address,
            type=self.type,
            word_order=self.word_order if self.word_order is not Endian.BIG else None,
            bit=self.bit,
            length=self.length,
            scale=self.scale,
            unit=self.unit,
            description=self.description,
            deadband=self.deadband,
            range=self.value_range,
            sentinels=list(self.sentinels),
            writable=self.writable,
        )


@dataclass
class _Compiled:
    point: Point
    codec: TagCodec
    count: int = field(init=False)

    def __post_init__(self) -> None:
        self.count = self.codec.register_count


TABLE_SIZES = {
    RegisterTable.COIL: 32,
    RegisterTable.DISCRETE_INPUT: 32,
    RegisterTable.HOLDING_REGISTER: 40,
    RegisterTable.INPUT_REGISTER: 140,
}
"""Registers (bits) each table serves from address 0; other addresses are illegal."""

REFERENCE_DEVICE = DeviceConfig(id="simulator", port=15020)
"""Big-endian defaults: every point that differs says so itself, as a tag would."""


class RegisterMap:
    """The register map of a station design: an image of the model, and writes into it."""

    def __init__(self, design: StationDesign) -> None:
        self.design = design
        self.points: tuple[Point, ...] = tuple(_points(design))
        compiled = [_Compiled(p, compile_tag(p.tag(), REFERENCE_DEVICE)) for p in self.points]
        # Bit points only describe a bit of a word their status word point already encodes.
        self._encoded = [c for c in compiled if c.point.bit is None]
        self._writable: dict[tuple[RegisterTable, int], _Compiled] = {
            (c.point.table, c.point.address): c for c in compiled if c.point.writable
        }
        _check_layout(self._encoded)

    def image(self, station: PumpStation) -> dict[RegisterTable, list[int]]:
        """Every table as the PLC would serve it now (bits as 0/1)."""
        tables = {table: [0] * size for table, size in TABLE_SIZES.items()}
        for compiled in self._encoded:
            point = compiled.point
            words = _encode(compiled, point.read(station))
            tables[point.table][point.address : point.address + compiled.count] = words
        return tables

    def write(
        self, station: PumpStation, table: RegisterTable, address: int, values: Sequence[int]
    ) -> list[str]:
        """Apply a client's write of `values` at `address` to the process.

        Every register written must belong to a writable point, and a multi-register point
        must be written whole; otherwise nothing changes and WriteRefused says why. Returns the
        names of the points written.
        """
        changes: list[tuple[_Compiled, float]] = []
        position = 0
        while position < len(values):
            compiled = self._writable.get((table, address + position))
            if compiled is None:
                raise WriteRefused(
                    ILLEGAL_ADDRESS, f"{table.value} {address + position} is not writable"
                )
            words = values[position : position + compiled.count]
            if len(words) < compiled.count:
                raise WriteRefused(
                    ILLEGAL_ADDRESS,
                    f"{compiled.point.name} spans {compiled.count} registers: write them all",
                )
            decoded = compiled.codec.decode(words)
            if decoded.value is None or isinstance(decoded.value, str):
                raise WriteRefused(ILLEGAL_VALUE, f"{compiled.point.name}: unusable value")
            changes.append((compiled, decoded.value))
            position += compiled.count
        self._apply(station, changes)
        return [compiled.point.name for compiled, _ in changes]

    def _apply(self, station: PumpStation, changes: list[tuple[_Compiled, float]]) -> None:
        setpoints = {c.point.setpoint: value for c, value in changes if c.point.setpoint}
        try:
            if setpoints:
                station.update_setpoints(**setpoints)
            for compiled, value in changes:
                if compiled.point.write is not None:
                    compiled.point.write(station, value)
        except ValueError as exc:
            raise WriteRefused(ILLEGAL_VALUE, str(exc)) from None


def _encode(compiled: _Compiled, value: float | bool | str) -> list[int]:
    try:
        return compiled.codec.encode(value)
    except CodecError:
        point = compiled.point
        if not point.sentinels or point.type is None:
            raise
        # A value the register cannot hold (a reading past its type): real PLCs send their
        # "invalid" pattern, which the tag's sentinels turn into a bad-quality sample.
        return encode_value(
            point.sentinels[0], point.type, word_order=point.word_order, byte_order=Endian.BIG
        )


def _check_layout(compiled: list[_Compiled]) -> None:
    """No two points share a register, and every point lies inside its table."""
    taken: dict[tuple[RegisterTable, int], str] = {}
    for c in compiled:
        point = c.point
        for address in range(point.address, point.address + c.count):
            if address >= TABLE_SIZES[point.table]:
                raise ValueError(f"{point.name} lies outside the {point.table.value} table")
            other = taken.setdefault((point.table, address), point.name)
            if other != point.name:
                raise ValueError(f"{point.name} and {other} share {point.table.value} {address}")


# --- the map --------------------------------------------------------------------------------

IR = RegisterTable.INPUT_REGISTER
HR = RegisterTable.HOLDING_REGISTER
COIL = RegisterTable.COIL
DI = RegisterTable.DISCRETE_INPUT
F32 = DataType.FLOAT32
U16 = DataType.UINT16
I16 = DataType.INT16
U32 = DataType.UINT32
LITTLE = Endian.LITTLE

STATION_STATUS_BITS: tuple[tuple[str | None, str, Reading], ...] = (
    (None, "Mains power present", lambda s: s.mains_ok),
    (None, "Standby generator running", lambda s: s.generator_running),
    ("station.on_generator", "Station supplied by the generator", lambda s: s.on_generator),
    (None, "High-high level float", lambda s: s.high_high_float),
    (None, "Low level float (pumps cut out)", lambda s: s.low_float),
    (None, "Station door open", lambda s: s.door_open),
    (None, "Spilling to the emergency overflow", lambda s: s.overflowing),
    ("wet_well.high_level", "Level above the high level set point", lambda s: s.high_level_alarm),
    ("wet_well.low_level", "Level below the low level set point", lambda s: s.low_level_alarm),
    ("station.pump_fault", "Any pump tripped or failed to start", lambda s: s.pump_fault_alarm),
    (None, "Any station alarm", lambda s: s.common_alarm),
    (
        "station.high_pressure",
        "Discharge pressure at or above the high pressure set point",
        lambda s: s.high_pressure_alarm,
    ),
)
"""Bits 0.. of the station status word, low bit first: (tag, description, reading). Bits that
duplicate a discrete input get no tag of their own (tag None); the word still carries them."""

PUMP_STATUS_BITS = (
    (None, "Running", 0),
    (None, "Selector in Auto", 1),
    ("in_hand", "Selector in Hand", 2),
    ("in_off", "Selector in Off", 3),
    (None, "Tripped", 4),
    (None, "Failed to start", 5),
    ("remote", "Remote control mode", 6),
    ("available", "Available to the level controller", 7),
    ("commanded", "Run commanded", 8),
)
"""Bits of each pump's status word (see Pump.status_word): (tag suffix, description, bit);
as for the station word, bits with a discrete input of their own get no tag."""


def _station_status(station: PumpStation) -> int:
    word = 0
    for bit, (_, _, reading) in enumerate(STATION_STATUS_BITS):
        if reading(station):
            word |= 1 << bit
    return word


def _points(design: StationDesign) -> Iterator[Point]:
    yield from _station_points(design)
    for number in range(1, design.pump_count + 1):
        yield from _pump_points(number)


def _station_points(design: StationDesign) -> Iterator[Point]:
    depth = design.wet_well_depth
    # Input registers: measurements and counters.
    yield Point("wet_well.level", IR, 0, lambda s: s.level_measured, F32, unit="m",
                description="Wet well level above the sump floor", deadband=0.005,
                value_range=(0.0, depth))  # fmt: skip
    yield Point("station.inflow", IR, 2, lambda s: s.inflow * 1000, F32, LITTLE, unit="l/s",
                description="Inflow to the wet well (calculated)", deadband=0.5)  # fmt: skip
    yield Point("station.outflow", IR, 4, lambda s: s.outflow * 1000, F32, LITTLE, unit="l/s",
                description="Discharge flow meter", deadband=0.5)  # fmt: skip
    yield Point("station.discharge_pressure", IR, 6, lambda s: s.discharge_pressure, U16,
                scale=0.01, unit="bar", description="Discharge header pressure",
                deadband=0.02, sentinels=(0xFFFF,))  # fmt: skip
    yield Point("wet_well.level_percent", IR, 7, lambda s: 100 * s.level_measured / depth, U16,
                scale=0.1, unit="%", description="Wet well level in percent of the span",
                sentinels=(0xFFFF,))  # fmt: skip
    yield Point("station.flow_total", IR, 8, lambda s: s.pumped_volume, U32, scale=0.1,
                unit="m3", description="Discharge flow totalizer")  # fmt: skip
    yield Point("station.energy_total", IR, 10, lambda s: s.energy_kwh, U32, LITTLE, scale=0.1,
                unit="kWh", description="Energy meter")  # fmt: skip
    yield Point("station.overflow_total", IR, 12, lambda s: s.overflow_volume, F32, unit="m3",
                description="Volume spilled to the emergency overflow")  # fmt: skip
    yield Point("station.status", IR, 14, _station_status, U16,
                description="Station status word (bits below)")  # fmt: skip
    for bit, (name, description, reading) in enumerate(STATION_STATUS_BITS):
        if name is not None:
            yield Point(name, IR, 14, reading, DataType.BOOL, bit=bit, description=description)
    yield Point("station.pumps_running", IR, 15, lambda s: sum(p.running for p in s.pumps),
                U16, description="Pumps running")  # fmt: skip
    yield Point("station.lead_pump", IR, 16, lambda s: s.lead_pump, U16,
                description="Lead pump number")  # fmt: skip
    yield Point("station.demand", IR, 17, lambda s: s.demand, U16,
                description="Pumps the level controller calls for")  # fmt: skip
    yield Point("station.clock", IR, 18, lambda s: int(s.time.timestamp()), U32, unit="s",
                description="PLC clock, Unix seconds (simulated time)")  # fmt: skip
    yield Point("station.remote_rejected", IR, 20, lambda s: s.remote_commands_rejected, U16,
                description="Remote run commands ignored (pump not in Auto + remote)")  # fmt: skip
    yield Point("station.name", IR, 100, lambda s: s.design.name, DataType.STRING,
                length=NAME_REGISTERS, description="Station name")  # fmt: skip
    yield Point("station.firmware", IR, 100 + NAME_REGISTERS, lambda s: FIRMWARE,
                DataType.STRING, length=FIRMWARE_REGISTERS,
                description="PLC firmware version")  # fmt: skip

    # Holding registers: set points (writable) and fixed plant data.
    for address, (key, description) in enumerate(_SETPOINTS):
        yield Point(f"setpoint.{key}", HR, address, _setpoint_reader(key), U16, scale=0.01,
                    unit="m", description=description, setpoint=key)  # fmt: skip
    yield Point("setpoint.max_starts_per_hour", HR, len(_SETPOINTS),
                lambda s: s.setpoints.max_starts_per_hour, U16,
                description="Starts a pump may make per hour",
                setpoint="max_starts_per_hour")  # fmt: skip
    yield Point("station.lead_select", HR, 8, lambda s: s.lead_pump, U16,
                description="Lead pump; write a pump number to make it lead",
                write=lambda s, v: s.set_lead(int(v)))  # fmt: skip
    yield Point("wet_well.area", HR, 30, lambda s: s.design.wet_well_area, F32, LITTLE,
                unit="m2", description="Wet well plan area (read-only)")  # fmt: skip
    # A float set point, as PLCs keep tuning parameters: two registers, written in one request.
    yield Point("setpoint.high_pressure", HR, 32, lambda s: s.setpoints.high_pressure, F32,
                LITTLE, unit="bar", description="Discharge high pressure alarm set point",
                setpoint="high_pressure")  # fmt: skip

    # Discrete inputs: field contacts.
    contacts: list[tuple[str, str, Reading]] = [
        ("station.mains_ok", "Mains power present", lambda s: s.mains_ok),
        ("station.generator_running", "Standby generator running", lambda s: s.generator_running),
        ("wet_well.high_high_float", "High-high level float switch", lambda s: s.high_high_float),
        ("wet_well.low_float", "Low level float switch", lambda s: s.low_float),
        ("station.door_open", "Station door contact (intrusion)", lambda s: s.door_open),
        ("station.overflow", "Emergency overflow spilling", lambda s: s.overflowing),
        ("station.common_alarm", "Common alarm", lambda s: s.common_alarm),
    ]
    for address, (name, description, reading) in enumerate(contacts):
        yield Point(name, DI, address, reading, description=description)


_SETPOINTS = (
    ("lead_start", "Lead pump start level"),
    ("lag_start", "Lag pump start level"),
    ("standby_start", "Standby pump start level"),
    ("stop", "All pumps stop level"),
    ("high_level", "High level alarm set point"),
    ("low_level", "Low level alarm set point"),
)


def _setpoint_reader(key: str) -> Reading:
    def read(station: PumpStation) -> float:
        value: float = getattr(station.setpoints, key)
        return value

    return read


def _pump_points(number: int) -> Iterator[Point]:
    prefix = f"pump{number}"
    index = number - 1

    def pump(station: PumpStation) -> Pump:
        return station.pumps[index]

    ir = PUMP_INPUT_BASE + PUMP_INPUT_STRIDE * index
    yield Point(f"{prefix}.status", IR, ir, lambda s: pump(s).status_word, U16,
                description=f"Pump {number} status word (bits below)")  # fmt: skip
    for suffix, description, bit in PUMP_STATUS_BITS:
        if suffix is None:
            continue
        yield Point(f"{prefix}.{suffix}", IR, ir, _status_bit(pump, bit), DataType.BOOL,
                    bit=bit, description=f"Pump {number}: {description}")  # fmt: skip
    yield Point(f"{prefix}.current", IR, ir + 1, lambda s: pump(s).current, U16, scale=0.1,
                unit="A", description=f"Pump {number} motor current", deadband=0.5,
                sentinels=(0xFFFF,))  # fmt: skip
    yield Point(f"{prefix}.power", IR, ir + 2, lambda s: pump(s).power, I16, scale=0.1,
                unit="kW", description=f"Pump {number} electrical power", deadband=0.2,
                sentinels=(0x7FFF,))  # fmt: skip
    yield Point(f"{prefix}.flow", IR, ir + 3, lambda s: pump(s).flow * 1000, U16, scale=0.1,
                unit="l/s", description=f"Pump {number} flow (calculated)", deadband=0.5,
                sentinels=(0xFFFF,))  # fmt: skip
    yield Point(f"{prefix}.motor_temperature", IR, ir + 4,
                lambda s: pump(s).motor_temperature, I16, scale=0.1, unit="degC",
                description=f"Pump {number} motor winding temperature", deadband=0.5,
                sentinels=(0x7FFF,))  # fmt: skip
    yield Point(f"{prefix}.run_hours", IR, ir + 5, lambda s: pump(s).run_hours, U32, LITTLE,
                scale=0.1, unit="h", description=f"Pump {number} run hours")  # fmt: skip
    yield Point(f"{prefix}.starts", IR, ir + 7, lambda s: pump(s).starts, U32,
                description=f"Pump {number} starts counter")  # fmt: skip

    yield Point(f"{prefix}.hoa", HR, HOA_HOLDING_BASE + index, lambda s: int(pump(s).hoa), U16,
                description=f"Pump {number} Hand-Off-Auto selector: 0 Off, 1 Hand, 2 Auto "
                "(writable here to simulate an operator at the panel)",
                write=lambda s, v: s.set_hoa(number, _hoa(v)))  # fmt: skip

    coil = PUMP_COIL_STRIDE * index
    yield Point(f"{prefix}.remote_mode", COIL, coil, lambda s: pump(s).remote_mode,
                description=f"Pump {number} remote mode (with Auto: follow remote run)",
                write=lambda s, v: s.set_remote_mode(number, bool(v)))  # fmt: skip
    yield Point(f"{prefix}.remote_run", COIL, coil + 1, lambda s: pump(s).remote_run,
                description=f"Pump {number} remote run command (honoured in Auto + remote)",
                write=lambda s, v: _remote_run(s, number, bool(v)))  # fmt: skip
    yield Point(f"{prefix}.fault_reset", COIL, coil + 2, lambda s: False,
                description=f"Pump {number} fault reset (write 1; reads 0)",
                write=lambda s, v: s.reset_faults(number) if v else None)  # fmt: skip

    di = PUMP_DISCRETE_BASE + PUMP_DISCRETE_STRIDE * index
    yield Point(f"{prefix}.running", DI, di, lambda s: pump(s).running,
                description=f"Pump {number} running (contactor feedback)")  # fmt: skip
    yield Point(f"{prefix}.tripped", DI, di + 1, lambda s: pump(s).tripped,
                description=f"Pump {number} overload tripped")  # fmt: skip
    yield Point(f"{prefix}.fail_to_start", DI, di + 2, lambda s: pump(s).fail_to_start,
                description=f"Pump {number} failed to start")  # fmt: skip
    yield Point(f"{prefix}.auto", DI, di + 3, lambda s: pump(s).hoa is Hoa.AUTO,
                description=f"Pump {number} selector in Auto")  # fmt: skip


def _status_bit(pump: Callable[[PumpStation], Pump], bit: int) -> Reading:
    return lambda station: bool(pump(station).status_word >> bit & 1)


def _hoa(value: float) -> Hoa:
    try:
        return Hoa(int(value))
    except ValueError:
        raise ValueError(f"{value:g} is no selector position (0 Off, 1 Hand, 2 Auto)") from None


def _remote_run(station: PumpStation, number: int, run: bool) -> None:
    # A real PLC acknowledges the write and then ignores a command it may not follow; the
    # rejection is counted in station.remote_rejected.
    station.command_remote_run(number, run)
