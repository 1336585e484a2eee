"""The codec's whole-station check: each tag `compile_tag` refuses is a finding at the tag."""

from pstg.codec.checks import check_tag_codecs
from pstg.config.checks import Finding
from pstg.config.models import StationConfig


def test_refused_tags_are_findings_in_the_codecs_words():
    config = StationConfig.model_validate(
        {
            "station": {"id": "ps-01"},
            "devices": [
                {"id": "plc1", "tags": [{"name": "ok", "source": "coil", "address": 0}]},
                {
                    "id": "plc2",
                    "tags": [
                        {"name": "level", "source": "holding_register", "address": 0,
                         "sentinels": [70000]},
                        {"name": "run", "source": "coil", "address": 0, "scale": 2},
                    ],
                },
            ],
        }
    )  # fmt: skip
    found = list(check_tag_codecs(config, lambda loc: None))
    assert [finding.loc for finding in found] == [
        ("devices", 1, "tags", 0),
        ("devices", 1, "tags", 1),
    ]
    assert found[0].message.startswith("sentinel 70000 does not fit uint16")
    assert found[1] == Finding(("devices", 1, "tags", 1), "a bool tag cannot have scale or offset")


def test_tags_with_the_same_settings_get_the_same_answer_each_at_its_own_place():
    # Each combination of codec settings is compiled once; every tag still gets its finding.
    bad = {"source": "coil", "scale": 2}
    config = StationConfig.model_validate(
        {
            "station": {"id": "ps-01"},
            "devices": [
                {"id": "plc1", "tags": [
                    {"name": "run1", "address": 0, **bad},
                    {"name": "ok", "address": 1, "source": "coil"},
                    {"name": "run2", "address": 2, **bad, "unit": "x"},
                ]},
                {"id": "plc2", "word_order": "little",
                 "tags": [{"name": "run3", "address": 0, **bad}]},
            ],
        }
    )  # fmt: skip
    found = list(check_tag_codecs(config, lambda loc: None))
    assert found == [
        Finding(("devices", 0, "tags", 0), "a bool tag cannot have scale or offset"),
        Finding(("devices", 0, "tags", 2), "a bool tag cannot have scale or offset"),
        Finding(("devices", 1, "tags", 0), "a bool tag cannot have scale or offset"),
    ]
