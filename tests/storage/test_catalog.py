"""The catalog follows the config: tags added, updated, retired (never deleted), revived."""

import numpy as np
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


def station_of(devices: int, tags: int, *, unit: str = "m") -> StationConfig:
    return StationConfig.model_validate(
        {
            "station": {"id": "ps-01"},
            "devices": [
                {
                    "id": f"plc{d}",
                    "port": 15020 + d,
                    "tags": [
                        {"name": f"d{d}.t{t}", "source": "holding_register", "address": t,
                         "unit": unit}
                        for t in range(tags)
                    ],
                }
                for d in range(devices)
            ],
        }
    )  # fmt: skip


def test_ids_follow_the_tag_index_of_batches(engine: sa.Engine) -> None:
    config = station_of(3, 4)
    catalog = sync_catalog(engine, config)
    names = [tag.name for device in config.devices for tag in device.tags]
    assert catalog.ids.dtype == np.int64
    assert catalog.ids.tolist() == [catalog.tag_ids[name] for name in names]
    assert list(catalog.tag_ids) == names


def test_many_tags_sync_in_bulk(engine: sa.Engine) -> None:
    first = sync_catalog(engine, station_of(20, 1000))  # 20,000 tags
    assert len(first.added) == 20_000 == len(set(first.ids.tolist()))
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    again = sync_catalog(engine, station_of(20, 1000, unit="mm"))  # every tag changed
    retired = sync_catalog(engine, station_of(2, 1000, unit="mm"))  # 18,000 tags leave
    sa.event.remove(engine, "before_cursor_execute", count)
    assert again.ids.tolist() == first.ids.tolist()
    assert len(retired.retired) == 18_000
    assert len(statements) < 40  # a handful per sync, never one per tag
    state = rows(engine)
    assert state["d0.t0"] == (first.tag_ids["d0.t0"], "mm", False)
    assert state["d19.t999"][2] is True
