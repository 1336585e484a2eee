"""Prometheus metrics of the gateway itself, for `GET /metrics`.

Device and writer figures are read from their statistics objects when Prometheus scrapes (a
custom collector), so polling and writing never touch prometheus-client. API latency is
observed by middleware on a histogram of this registry. Each `Metrics` has its own registry,
so several apps (tests) do not collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from pstg.drivers.errors import FailureKind

if TYPE_CHECKING:
    from pstg.histogram import Histogram as Counts
    from pstg.poller.stats import DeviceStats
    from pstg.storage.writer import WriterStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(
        self,
        device_stats: Callable[[], Mapping[str, DeviceStats]],
        writer_stats: Callable[[], WriterStats | None],
    ) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_GatewayCollector(device_stats, writer_stats))
        self.api_latency = Histogram(
            "pstg_api_request_seconds",
            "API request latency by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _histogram(
    name: str, doc: str, labels: list[str], values: list[str], counts: Counts
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=labels)
    family.add_metric(values, counts.cumulative(), sum_value=counts.total)
    return family


class _GatewayCollector(Collector):
    def __init__(
        self,
        device_stats: Callable[[], Mapping[str, DeviceStats]],
        writer_stats: Callable[[], WriterStats | None],
    ) -> None:
        self._devices = device_stats
        self._writer = writer_stats

    def collect(self) -> Iterator[Metric]:
        yield from self._device_metrics()
        yield from self._writer_metrics()

    def _device_metrics(self) -> Iterator[Metric]:
        devices = self._devices()
        requests = CounterMetricFamily(
            "pstg_device_requests", "Modbus requests sent, per device.", labels=["device"]
        )
        errors = CounterMetricFamily(
            "pstg_device_errors", "Failed requests per device and failure kind.",
            labels=["device", "kind"],
        )  # fmt: skip
        overruns = CounterMetricFamily(
            "pstg_poll_overruns", "Poll cycles that took longer than the interval.",
            labels=["device"],
        )  # fmt: skip
        up = GaugeMetricFamily(
            "pstg_device_up", "1 when the device answered its last request.", labels=["device"]
        )
        rtt = HistogramMetricFamily(
            "pstg_device_rtt_seconds", "Round-trip time of successful requests.",
            labels=["device"],
        )  # fmt: skip
        for device_id, stats in sorted(devices.items()):
            requests.add_metric([device_id], stats.requests)
            for kind in FailureKind:
                errors.add_metric([device_id, kind.value], stats.errors.get(kind, 0))
            overruns.add_metric([device_id], stats.overruns)
            up.add_metric([device_id], 1.0 if stats.status.value == "up" else 0.0)
            rtt.add_metric([device_id], stats.rtt.cumulative(), sum_value=stats.rtt.total)
        yield from (requests, errors, overruns, up, rtt)

    def _writer_metrics(self) -> Iterator[Metric]:
        stats = self._writer()
        if stats is None:
            return
        gauges = {
            "pstg_writer_queue_depth": ("Samples waiting for the next flush.", stats.pending),
            "pstg_spool_bytes": ("Size of the on-disk spool.", stats.spool_bytes),
            "pstg_spool_fill_ratio": ("Spool size over its limit.", stats.spool_fill),
            "pstg_database_up": ("1 when the last database write worked.", int(stats.database_up)),
        }
        for name, (doc, value) in gauges.items():
            yield GaugeMetricFamily(name, doc, value=value)
        counters = {
            "pstg_samples_received": ("Samples handed to the writer.", stats.received),
            "pstg_samples_stored": ("Samples written to the database.", stats.stored),
            "pstg_samples_suppressed": ("Unchanged samples not stored.", stats.suppressed),
            "pstg_samples_spooled": ("Samples written to the spool.", stats.spooled),
            "pstg_samples_dropped": ("Samples lost to a full spool.", stats.dropped),
            "pstg_database_write_failures": ("Failed database writes.", stats.failures),
        }
        for name, (doc, value) in counters.items():
            yield CounterMetricFamily(name, doc, value=value)
        yield _histogram(
            "pstg_database_write_seconds", "Duration of each database write (batch + rollups).",
            [], [], stats.write_seconds,
        )  # fmt: skip
