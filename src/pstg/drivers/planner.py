"""Read planner: turn a device's tag list into the fewest read requests.

Per register table, tags are sorted by address and merged greedily into blocks: a tag joins the
current block when the unused registers between them are at most `max_gap` and the block stays
within the per-request limit. Sorted greedy is optimal here: each block reaches as far as it can,
so no other split needs fewer requests. The plan is computed once at start-up; the poll loop
only walks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pstg.config.models import DeviceConfig, TagConfig
from pstg.model import RegisterTable

TABLE_ORDER = (
    RegisterTable.COIL,
    RegisterTable.DISCRETE_INPUT,
    RegisterTable.HOLDING_REGISTER,
    RegisterTable.INPUT_REGISTER,
)


class PlanError(ValueError):
    """A tag cannot be read within the device's request limits."""


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request: `count` registers (or bits) from `address` of `table`."""

    table: RegisterTable
    address: int
    count: int
    tags: tuple[TagConfig, ...]

    @property
    def end_address(self) -> int:
        return self.address + self.count - 1

    def words_for(self, tag: TagConfig, data: Sequence[int]) -> Sequence[int]:
        """The part of this block's response that belongs to `tag`."""
        start = tag.address - self.address
        return data[start : start + tag.register_count]

    def describe(self) -> str:
        unit = "bit" if self.table.is_bit_table else "register"
        if self.count != 1:
            unit += "s"
        names = ", ".join(tag.name for tag in self.tags)
        return (
            f"{self.table.value} {self.address}..{self.end_address} ({self.count} {unit}): {names}"
        )


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """All read requests of one device, in the order they are issued each cycle."""

    device_id: str
    blocks: tuple[ReadBlock, ...]

    @property
    def tag_count(self) -> int:
        return sum(len(block.tags) for block in self.blocks)

    def describe(self) -> list[str]:
        return [block.describe() for block in self.blocks]


def plan_blocks(
    table: RegisterTable,
    tags: Iterable[TagConfig],
    *,
    max_count: int,
    max_gap: int,
) -> list[ReadBlock]:
    """Merge the tags of one table into blocks of at most `max_count` units."""
    ordered = sorted(tags, key=lambda tag: (tag.address, tag.end_address))
    blocks: list[ReadBlock] = []
    start = end = -1
    members: list[TagConfig] = []
    for tag in ordered:
        _check_fits(tag, max_count)
        new_end = max(end, tag.end_address)
        fits = members and tag.address - end - 1 <= max_gap and new_end - start + 1 <= max_count
        if fits:
            end = new_end
            members.append(tag)
            continue
        if members:
            blocks.append(ReadBlock(table, start, end - start + 1, tuple(members)))
        start, end, members = tag.address, tag.end_address, [tag]
    if members:
        blocks.append(ReadBlock(table, start, end - start + 1, tuple(members)))
    return blocks


def plan_device(device: DeviceConfig) -> ReadPlan:
    """The read plan of one device, using its per-request limits and gap settings."""
    blocks: list[ReadBlock] = []
    for table in TABLE_ORDER:
        tags = [tag for tag in device.tags if tag.source is table]
        if not tags:
            continue
        limit, gap = _limits(device, table)
        blocks.extend(plan_blocks(table, tags, max_count=limit, max_gap=gap))
    return ReadPlan(device_id=device.id, blocks=tuple(blocks))


def check_tag_fits(device: DeviceConfig, tag: TagConfig) -> None:
    """Raise PlanError if `tag` alone is more than one request of `device` may read."""
    _check_fits(tag, _limits(device, tag.source)[0])


def _limits(device: DeviceConfig, table: RegisterTable) -> tuple[int, int]:
    """Units one request may read from `table` of `device`, and unused ones it may span."""
    if table.is_bit_table:
        return device.max_bits_per_request, device.max_bit_gap
    return device.max_registers_per_request, device.max_gap


def _check_fits(tag: TagConfig, max_count: int) -> None:
    if tag.register_count > max_count:
        raise PlanError(
            f"tag {tag.name!r} spans {tag.register_count} registers, more than the "
            f"{max_count} one request may read on this device"
        )
