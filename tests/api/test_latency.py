"""Latency of the two requests a dashboard makes most, in-process (ASGI, token check
included), with generous bounds: a regression guard, not a benchmark (bench/api.py is).

Run with `-s` to see the figures."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from pstg.api.app import create_app
from pstg.config.models import StationConfig
from pstg.model import Sample
from tests.api.conftest import STATION, Api, asgi_client, make_context

MIN = timedelta(minutes=1)
ROUNDS = 15


async def timed(call: object, rounds: int = ROUNDS) -> float:
    """Median seconds of `rounds` awaits of `call()`."""
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = await call()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return statistics.median(seconds)


def station_with(tag_count: int) -> StationConfig:
    raw = STATION.model_dump(mode="json")
    raw["devices"][0]["tags"] = [
        {"name": f"t{n:04d}", "source": "holding_register", "address": n, "unit": "m"}
        for n in range(tag_count)
    ]
    return StationConfig.model_validate(raw)


async def test_tags_and_a_1000_point_trend_are_fast(api: Api) -> None:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=30)
    api.store(Sample("wet_well.level", start + i * MIN, float(i % 500)) for i in range(43_200))
    headers = await api.headers()

    config = station_with(500)
    context = make_context(api.engine, config=config)
    context.live.update(
        Sample(tag.name, end, float(n)) for n, tag in enumerate(config.devices[0].tags)
    )
    async with asgi_client(create_app(context)) as client:
        tags = await timed(lambda: client.get("/api/v1/tags", headers=headers))

    window = {"from": start.isoformat(), "to": end.isoformat()}
    trend_30d = await timed(
        lambda: api.client.get(
            "/api/v1/trends",
            params={"tag": "wet_well.level", "points": 1000, **window},
            headers=headers,
        )
    )
    trend_1h = await timed(
        lambda: api.client.get(
            "/api/v1/trends",
            params={"tag": "wet_well.level", "maxDataPoints": 1000, "from": "now-1h"},
            headers=headers,
        )
    )
    backend = api.engine.dialect.name
    print(
        f"\n{backend}: /tags (500 tags) {tags * 1000:.1f} ms, 1000-point trend over 30 days "
        f"(43,200 samples) {trend_30d * 1000:.1f} ms, over 1 h {trend_1h * 1000:.1f} ms"
    )
    assert tags < 0.25
    assert trend_30d < 1.0
    assert trend_1h < 0.5
