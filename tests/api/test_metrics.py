"""/metrics: Prometheus exposition of the devices, the writer and the API's own latency."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from pstg.drivers.errors import FailureKind
from pstg.poller.stats import DeviceStats, LinkStatus
from pstg.storage.writer import WriterStats
from tests.api.conftest import Api


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_exposition(api: Api) -> None:
    stats = DeviceStats("plc1", status=LinkStatus.UP, requests=10, overruns=2)
    stats.errors[FailureKind.TIMEOUT] = 3
    for seconds in (0.002, 0.004, 0.3):
        stats.rtt.observe(seconds)
    api.devices["plc1"] = stats
    api.writer.append(WriterStats(pending=7, stored=100, spool_bytes=2048))

    assert (await api.get("/api/v1/tags")).status_code == 200
    assert (await api.get("/api/v1/series", tag="nope")).status_code == 404
    assert (await api.client.get("/no/such/page")).status_code == 404
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)

    def value(name: str, **labels: str) -> float:
        return found[(name, frozenset(labels.items()))]

    assert value("pstg_device_requests_total", device="plc1") == 10
    assert value("pstg_device_errors_total", device="plc1", kind="timeout") == 3
    assert value("pstg_poll_overruns_total", device="plc1") == 2
    assert value("pstg_device_up", device="plc1") == 1
    assert value("pstg_device_rtt_seconds_count", device="plc1") == 3
    assert value("pstg_device_rtt_seconds_bucket", device="plc1", le="0.005") == 2
    assert value("pstg_writer_queue_depth") == 7
    assert value("pstg_samples_stored_total") == 100
    assert value("pstg_spool_bytes") == 2048

    latency = "pstg_api_request_seconds_count"
    assert value(latency, method="GET", route="/api/v1/tags", status="200") == 1
    assert value(latency, method="GET", route="/api/v1/series", status="404") == 1
    assert value(latency, method="GET", route="unmatched", status="404") == 1
    assert value(latency, method="POST", route="/api/v1/auth/token", status="200") == 1
    routes = {dict(labels)["route"] for name, labels in found if name == latency}
    assert all(route.startswith("/") or route == "unmatched" for route in routes)


async def test_made_up_methods_and_paths_share_one_series_each(api: Api) -> None:
    """Issue 10 item 12: no anonymous client can grow the label set."""
    latency = "pstg_api_request_seconds_count"

    async def series() -> set[frozenset[tuple[str, str]]]:
        response = await api.get("/metrics")
        return {labels for name, labels in samples(response.text) if name == latency}

    await api.get("/metrics")  # the scrape itself has its series from now on
    before = await series()
    for n in range(6):
        await api.client.request(f"FOO{n}", "/api/v1/tags")
        await api.client.request(f"BAR{n}", f"/made/up/{n}")
        await api.client.get(f"/api/v1/tags/{n}/nothing")
    added = await series() - before
    labels = sorted(tuple(sorted(dict(item).items())) for item in added)
    assert labels == [
        (("method", "GET"), ("route", "unmatched"), ("status", "404")),
        (("method", "other"), ("route", "/api/v1/tags"), ("status", "405")),
        (("method", "other"), ("route", "unmatched"), ("status", "404")),
    ]
