"""/series, /trends and /summary over stored samples, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pstg.api.app import create_app
from pstg.config.models import StationConfig
from pstg.model import Quality, QualityReason, Sample
from pstg.storage.queries import MAX_SERIES_LIMIT, MAX_TREND_POINTS
from tests.api.conftest import STATION, Api, asgi_client, make_context

T0 = datetime(2024, 3, 1, tzinfo=UTC)
S = timedelta(seconds=1)
MIN = timedelta(minutes=1)


def z(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def level(offset: timedelta, value: float, quality: Quality = Quality.GOOD) -> Sample:
    if quality is Quality.BAD:
        return Sample.bad("wet_well.level", T0 + offset, QualityReason.TIMEOUT)
    return Sample("wet_well.level", T0 + offset, value, quality)


# --- series ----------------------------------------------------------------------------------


async def test_series_pages_through_the_range(api: Api) -> None:
    api.store(level(i * S, float(i)) for i in range(25))
    api.store([level(25 * S, 0.0, Quality.BAD)])
    seen: list[dict[str, object]] = []
    params = {"tag": "wet_well.level", "from": z(T0), "to": z(T0 + MIN), "limit": 10}
    pages = 0
    while True:
        response = await api.get("/api/v1/series", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["limit"] == 10
        assert body["from"] == "2024-03-01T00:00:00Z"
        seen.extend(body["points"])
        pages += 1
        if body["next_after"] is None:
            break
        params["after"] = body["next_after"]
    assert pages == 3
    assert [point["value"] for point in seen] == [float(i) for i in range(25)] + [None]
    assert seen[0] == {
        "ts": "2024-03-01T00:00:00Z",
        "value": 0.0,
        "quality": "good",
        "reason": "",
    }
    assert seen[-1]["quality"] == "bad"
    assert seen[-1]["reason"] == "timeout"


async def test_series_limit_is_capped_and_says_so(api: Api) -> None:
    api.store(level(i * 10 * S, float(i)) for i in range(MAX_SERIES_LIMIT + 5))
    response = await api.get(
        "/api/v1/series", tag="wet_well.level", limit=10**9, **{"from": z(T0), "to": "now"}
    )
    body = response.json()
    assert body["limit"] == MAX_SERIES_LIMIT
    assert len(body["points"]) == MAX_SERIES_LIMIT
    assert body["next_after"] == body["points"][-1]["ts"]


async def test_series_of_a_text_tag(api: Api) -> None:
    api.store([Sample("plc2.status", T0, "AUTO"), Sample("plc2.status", T0 + S, "MAN")])
    response = await api.get("/api/v1/series", tag="plc2.status", **{"from": z(T0), "to": "now"})
    assert [point["value"] for point in response.json()["points"]] == ["AUTO", "MAN"]


async def test_a_retired_tag_stays_readable(api: Api, engine: object) -> None:
    api.store([Sample("outflow", T0, 12.0)])
    smaller = STATION.model_copy(
        update={
            "devices": [
                device.model_copy(
                    update={"tags": [tag for tag in device.tags if tag.name != "outflow"]}
                )
                for device in STATION.devices
            ]
        }
    )
    context = make_context(api.engine, config=StationConfig.model_validate(smaller.model_dump()))
    assert "outflow" not in context.tag_ids
    async with asgi_client(create_app(context)) as client:
        headers = await api.headers()
        response = await client.get(
            "/api/v1/series",
            params={"tag": "outflow", "from": z(T0), "to": "now"},
            headers=headers,
        )
        assert [point["value"] for point in response.json()["points"]] == [12.0]
        names = [tag["name"] for tag in (await client.get("/api/v1/tags", headers=headers)).json()]
        assert "outflow" not in names


@pytest.mark.parametrize("path", ["/api/v1/series", "/api/v1/trends", "/api/v1/summary"])
async def test_an_unknown_tag_is_404(api: Api, path: str) -> None:
    for name in ["nope", "bad\x00name", "x" * 500]:
        response = await api.get(path, tag=name)
        assert response.status_code == 404
        assert response.json()["detail"].startswith("unknown tag '")
    assert (await api.get(path, tag="nope")).json() == {"detail": "unknown tag 'nope'"}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"from": "now", "to": "now-1h"}, "from must be before to"),
        ({"from": "now", "to": "now"}, "from must be before to"),
        ({"from": "2024-03-01T00:00:00"}, "query parameter 'from': '2024-03-01T00:00:00' has no"),
        ({"to": "tomorrow"}, "query parameter 'to': 'tomorrow' is not an RFC 3339 time"),
        ({"limit": 0}, "query parameter 'limit': must be greater than or equal to 1, got '0'"),
        ({"limit": "many"}, "query parameter 'limit': must be a valid integer"),
        ({"after": "soon"}, "query parameter 'after': 'soon' is not"),
        ({"tag": ""}, "query parameter 'tag': string should have at least 1 character"),
    ],
)
async def test_bad_series_parameters_are_422(
    api: Api, params: dict[str, object], detail: str
) -> None:
    response = await api.get("/api/v1/series", **{"tag": "outflow", **params})
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)


async def test_a_missing_tag_parameter_is_named(api: Api) -> None:
    response = await api.client.get("/api/v1/trends", headers=await api.headers())
    assert response.status_code == 422
    assert response.json() == {"detail": "query parameter 'tag': is required"}


# --- trends ----------------------------------------------------------------------------------


async def test_trend_buckets_with_gaps_and_carried_values(api: Api) -> None:
    # Every 10 s for 10 minutes, a 10-minute silence, 10 more minutes; heartbeat 60 s, so a
    # good value is carried 90 s into the silence and the rest is a gap.
    api.store(level(i * 10 * S, 1.0 + i % 6) for i in range(60))
    api.store(level(20 * MIN + i * 10 * S, 3.0) for i in range(60))
    response = await api.get(
        "/api/v1/trends", tag="wet_well.level", points=30, **{"from": z(T0), "to": z(T0 + 30 * MIN)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["points"] == 30
    assert body["staleness_s"] == 90.0
    assert body["source"] == "rollups_1m"
    buckets = body["buckets"]
    assert len(buckets) == 30
    assert buckets[0] == {
        "start": "2024-03-01T00:00:00Z",
        "end": "2024-03-01T00:01:00Z",
        "first": 1.0,
        "last": 6.0,
        "min": 1.0,
        "max": 6.0,
        "avg": 3.5,
        "count": 6,
        "value_count": 6,
        "good_count": 6,
        "gap": False,
        "carried": False,
    }
    kinds = ["carried" if b["carried"] else "gap" if b["gap"] else "data" for b in buckets]
    assert kinds == ["data"] * 10 + ["carried"] * 2 + ["gap"] * 8 + ["data"] * 10
    assert buckets[10]["last"] == 6.0


@pytest.mark.parametrize(
    ("span", "points", "source"),
    [
        (timedelta(minutes=10), 600, "raw"),
        (timedelta(hours=2), 100, "rollups_1m"),
        (timedelta(days=30), 1000, "rollups_10m"),
        (timedelta(days=60), 500, "rollups_1h"),
    ],
)
async def test_trend_source_follows_the_bucket_width(
    api: Api, span: timedelta, points: int, source: str
) -> None:
    api.store(level(i * MIN, float(i)) for i in range(120))
    response = await api.get(
        "/api/v1/trends", tag="wet_well.level", points=points, **{"from": z(T0), "to": z(T0 + span)}
    )
    body = response.json()
    assert body["source"] == source
    assert len(body["buckets"]) == points
    counted = sum(bucket["count"] for bucket in body["buckets"])
    assert counted == min(120, int(span / MIN))


async def test_trend_defaults_to_500_points_over_the_last_hour(api: Api) -> None:
    now = datetime.now(UTC)
    api.store([Sample("wet_well.level", now - 30 * MIN, 2.5)])
    body = (await api.get("/api/v1/trends", tag="wet_well.level")).json()
    assert body["points"] == len(body["buckets"]) == 500
    span = datetime.fromisoformat(body["to"]) - datetime.fromisoformat(body["from"])
    assert span == timedelta(hours=1)
    assert abs(datetime.fromisoformat(body["to"]) - now) < timedelta(seconds=30)
    assert sum(bucket["count"] for bucket in body["buckets"]) == 1


async def test_max_data_points_is_grafanas_name_for_points(api: Api) -> None:
    async def trend(**params: object) -> tuple[int, object]:
        response = await api.get("/api/v1/trends", tag="wet_well.level", **params)
        body = response.json()
        return response.status_code, body.get("points", body.get("detail"))

    assert await trend(maxDataPoints=40) == (200, 40)
    assert await trend(maxDataPoints=40, points=40) == (200, 40)
    assert await trend(maxDataPoints=10**6) == (200, MAX_TREND_POINTS)
    status, detail = await trend(maxDataPoints=40, points=41)
    assert (status, detail) == (422, "points (41) and maxDataPoints (40) disagree")
    status, detail = await trend(points=MAX_TREND_POINTS + 1)
    assert status == 422
    assert detail == (
        f"query parameter 'points': must be less than or equal to {MAX_TREND_POINTS}, "
        f"got '{MAX_TREND_POINTS + 1}'"
    )
    assert (await trend(points=0))[0] == 422
    assert (await trend(maxDataPoints=0))[0] == 422


async def test_trends_and_summaries_need_numbers(api: Api) -> None:
    for path in ["/api/v1/trends", "/api/v1/summary"]:
        response = await api.get(path, tag="plc2.status")
        assert response.status_code == 422
        assert "holds text" in response.json()["detail"]


async def test_a_range_too_long_for_its_points_is_422(api: Api) -> None:
    response = await api.get(
        "/api/v1/trends",
        tag="wet_well.level",
        points=MAX_TREND_POINTS,
        **{"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"},
    )
    assert response.status_code == 422
    assert "too long" in response.json()["detail"]


# --- summary ---------------------------------------------------------------------------------


async def test_summary(api: Api) -> None:
    api.store([level(0 * S, 1.0), level(10 * S, 3.0), level(20 * S, 0.0, Quality.BAD)])
    api.store([level(30 * S, 5.0, Quality.UNCERTAIN)])
    response = await api.get(
        "/api/v1/summary", tag="wet_well.level", **{"from": z(T0), "to": z(T0 + 40 * S)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "tag": "wet_well.level",
        "from": "2024-03-01T00:00:00Z",
        "to": "2024-03-01T00:00:40Z",
        "min": 1.0,
        "min_ts": "2024-03-01T00:00:00Z",
        "max": 5.0,
        "max_ts": "2024-03-01T00:00:30Z",
        "time_weighted_avg": 2.0,
        "avg": 3.0,
        "count": 4,
        "value_count": 3,
        "good_count": 2,
        "percent_good": 50.0,
        "first_ts": "2024-03-01T00:00:00Z",
        "last_ts": "2024-03-01T00:00:30Z",
    }
