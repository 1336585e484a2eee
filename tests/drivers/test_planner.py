"""Read planner: fewest requests within limits, as a table of cases.

Request counts against a real server are covered in tests/poller/test_poll_real_server.py.
"""

import pytest

from pstg.config.models import DeviceConfig, TagConfig
from pstg.drivers.planner import PlanError, plan_blocks, plan_device
from pstg.model import RegisterTable

HR = RegisterTable.HOLDING_REGISTER


def tag(name, address, type_="uint16", source="holding_register", **extra):
    return TagConfig.model_validate(
        {"name": name, "source": source, "address": address, "type": type_, **extra}
    )


def spans(blocks):
    return [(block.address, block.count) for block in blocks]


@pytest.mark.parametrize(
    ("tags", "max_count", "max_gap", "expected"),
    [
        # neighbours merge
        ([tag("a", 0), tag("b", 1), tag("c", 2)], 125, 0, [(0, 3)]),
        # a gap within max_gap is bridged, a larger one splits
        ([tag("a", 0), tag("b", 5)], 125, 4, [(0, 6)]),
        ([tag("a", 0), tag("b", 5)], 125, 3, [(0, 1), (5, 1)]),
        # multi-register types count their width
        ([tag("a", 0, "float32"), tag("b", 2, "float64")], 125, 0, [(0, 6)]),
        # the per-request limit is never exceeded
        ([tag(f"t{i}", i) for i in range(300)], 125, 0, [(0, 125), (125, 125), (250, 50)]),
        (
            [tag(f"t{i}", i * 2, "float32") for i in range(10)],
            7,
            0,
            [(0, 6), (6, 6), (12, 6), (18, 2)],
        ),
        # input order does not matter
        ([tag("b", 10), tag("a", 0)], 125, 10, [(0, 11)]),
        # two bit tags on one register share it
        ([tag("x", 4, "bool", bit=0), tag("y", 4, "bool", bit=3)], 125, 0, [(4, 1)]),
        # a string spans its length
        ([tag("s", 20, "string", length=8), tag("n", 28)], 125, 0, [(20, 9)]),
        # a tag that would not fit after the gap starts a new block
        ([tag("a", 0), tag("b", 120, "float32")], 121, 200, [(0, 1), (120, 2)]),
    ],
)
def test_plan_blocks(tags, max_count, max_gap, expected):
    blocks = plan_blocks(HR, tags, max_count=max_count, max_gap=max_gap)
    assert spans(blocks) == expected
    assert sum(len(block.tags) for block in blocks) == len(tags)
    for block in blocks:
        assert block.count <= max_count
        for member in block.tags:
            assert block.address <= member.address <= member.end_address <= block.end_address


def test_tag_larger_than_the_request_limit_is_a_plan_error():
    with pytest.raises(PlanError, match="spans 10 registers"):
        plan_blocks(HR, [tag("s", 0, "string", length=10)], max_count=8, max_gap=0)


def test_plan_device_uses_per_table_limits_and_order():
    device = DeviceConfig.model_validate(
        {
            "id": "rtu",
            "max_registers_per_request": 4,
            "max_bits_per_request": 16,
            "max_gap": 0,
            "max_bit_gap": 100,
            "tags": [
                {"name": "h0", "source": "holding_register", "address": 0, "type": "float64"},
                {"name": "h4", "source": "holding_register", "address": 4},
                {"name": "i0", "source": "input_register", "address": 0},
                {"name": "c0", "source": "coil", "address": 0},
                {"name": "c15", "source": "coil", "address": 15},
                {"name": "c16", "source": "coil", "address": 16},
                {"name": "d0", "source": "discrete_input", "address": 7},
            ],
        }
    )
    plan = plan_device(device)
    assert [(b.table.value, b.address, b.count) for b in plan.blocks] == [
        ("coil", 0, 16),
        ("coil", 16, 1),
        ("discrete_input", 7, 1),
        ("holding_register", 0, 4),
        ("holding_register", 4, 1),
        ("input_register", 0, 1),
    ]
    assert plan.tag_count == 7
    assert plan.describe()[0] == "coil 0..15 (16 bits): c0, c15"


def test_words_for_slices_each_tag():
    device = DeviceConfig.model_validate(
        {
            "id": "d",
            "tags": [
                {"name": "a", "source": "holding_register", "address": 10, "type": "uint32"},
                {"name": "b", "source": "holding_register", "address": 14},
            ],
        }
    )
    (block,) = plan_device(device).blocks
    data = [1, 2, 3, 4, 5]
    assert list(block.words_for(device.tags[0], data)) == [1, 2]
    assert list(block.words_for(device.tags[1], data)) == [5]
