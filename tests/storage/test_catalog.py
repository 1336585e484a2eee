"""The catalog follows the config: tags added, updated, retired (never deleted), revived."""

import sqlalchemy as sa

from pstg.config.models import StationConfig
from pstg.storage.catalog import sync_catalog, tag_ids
from pstg.storage.schema import devices, tags


def config(*names: str, unit: str = "m", device: str = "plc1") -> StationConfig:
    return StationConfig.model_validate(
        {
            "station": {"id": "ps-01", "name": "Pump Station 1"},
            "devices": [
                {
                    "id": device,
                    "port": 15020,
                    "tags": [
                        {"name": name, "source": "holding_register", "address": i, "unit": unit}
                        for i, name in enumerate(names)
                    ],
                }
            ],
        }
    )


def rows(engine: sa.Engine) -> dict[str, tuple[object, ...]]:
    with engine.connect() as connection:
        return {
            row.name: (row.id, row.unit, row.retired_at is not None)
            for row in connection.execute(sa.select(tags))
        }


def test_tags_are_added_updated_retired_and_revived(engine: sa.Engine) -> None:
    first = sync_catalog(engine, config("level", "flow"))
    assert sorted(first.added) == ["flow", "level"]
    assert set(first.tag_ids) == {"level", "flow"}

    # "flow" renamed to "outflow": a new tag; the old one is kept, retired, with its id.
    second = sync_catalog(engine, config("level", "outflow", unit="mm"))
    assert second.added == ("outflow",)
    assert second.retired == ("flow",)
    state = rows(engine)
    assert state["flow"] == (first.tag_ids["flow"], "m", True)
    assert state["level"] == (first.tag_ids["level"], "mm", False)
    assert "flow" not in second.tag_ids

    third = sync_catalog(engine, config("level", "outflow", "flow"))
    assert third.tag_ids["flow"] == first.tag_ids["flow"]
    assert rows(engine)["flow"][2] is False
    assert tag_ids(engine, "ps-01") == {name: row[0] for name, row in rows(engine).items()}


def test_devices_follow_the_config(engine: sa.Engine) -> None:
    sync_catalog(engine, config("level"))
    sync_catalog(engine, config("level", device="plc2"))
    with engine.connect() as connection:
        state = {
            row.key: (row.address, row.retired_at is not None)
            for row in connection.execute(sa.select(devices))
        }
    assert state == {"plc1": ("127.0.0.1:15020", True), "plc2": ("127.0.0.1:15020", False)}
