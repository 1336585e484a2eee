"""The shapes of the API's responses (pydantic), used as `response_model` so `/openapi.json`
describes every field.

Routers hand over plain records (the storage layer's NamedTuples and dataclasses, dicts);
pydantic reads them by attribute and writes JSON in one pass. Times are aware datetimes,
written as RFC 3339 UTC with `Z`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pstg.model import DataType, Quality, QualityReason, RegisterTable
from pstg.storage.queries import TrendSource


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, validate_by_name=True, validate_by_alias=True)


class ErrorOut(_Out):
    detail: str = Field(description="What is wrong, in words.")


# --- health ----------------------------------------------------------------------------------


class DatabaseHealth(_Out):
    ok: bool
    error: str | None = Field(description="Why the check failed (first line), or null.")
    latency_ms: float | None = Field(description="Round trip of `SELECT 1`; null on failure.")


class DeviceHealth(_Out):
    id: str
    status: Literal["unknown", "up", "down"]
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_kind: str | None


class WriterHealth(_Out):
    database_up: bool
    pending: int = Field(description="Samples waiting for the next flush.")
    spool_bytes: int = Field(description="Size of the on-disk buffer used during outages.")
    spool_fill: float = Field(description="spool_bytes over the spool's limit (0..1).")
    dropped: int = Field(description="Samples lost to a full spool since start.")


class HealthOut(_Out):
    status: Literal["ok", "degraded", "down"] = Field(
        description="ok (200); degraded (200): some devices down or the writer buffering to "
        "disk; down (503): the database or every device down."
    )
    station_id: str = Field(
        description="The station this service runs (`station.id` of its config), so a client "
        "can tell it reached the service it meant."
    )
    database: DatabaseHealth
    devices: list[DeviceHealth]
    writer: WriterHealth | None = Field(description="Null when this process writes nothing.")
    uptime_s: float


# --- devices ---------------------------------------------------------------------------------


class DeviceOut(_Out):
    device_id: str
    driver: str
    address: str = Field(description="host:port, or the serial port.")
    unit_id: int
    enabled: bool
    tags: int = Field(description="Number of tags configured on the device.")
    status: Literal["unknown", "up", "down"] = Field(
        description="unknown: not polled yet; up: answered its last request; down: "
        "the last attempt failed at the link level."
    )
    cycles: int
    requests: int
    responses: int
    errors: dict[str, int] = Field(description="Failed requests by failure kind.")
    overruns: int = Field(description="Poll cycles that took longer than the interval.")
    skipped_ticks: int
    samples: int
    last_rtt_ms: float | None
    last_cycle_ms: float | None
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_kind: str | None
    last_error_at: datetime | None
    consecutive_failures: int


# --- tags ------------------------------------------------------------------------------------


class LatestOut(_Out):
    value: float | str | None = Field(description="Null when the quality is bad.")
    quality: Quality
    reason: QualityReason = Field(description='Why the value is not good; "" when it is.')
    ts: datetime


class TagOut(_Out):
    name: str
    device: str
    source: RegisterTable
    address: int
    type: DataType
    unit: str
    description: str
    range: tuple[float, float] | None = Field(description="Engineering range [low, high].")
    writable: bool
    latest: LatestOut | None = Field(description="The live value; null before the first poll.")


# --- series, trends, summary -----------------------------------------------------------------


class PointOut(_Out):
    ts: datetime
    value: float | str | None
    quality: Quality
    reason: QualityReason


class SeriesOut(_Out):
    tag: str
    from_: datetime = Field(alias="from")
    to: datetime
    limit: int = Field(description="Points per page actually used (the request's, capped).")
    points: list[PointOut]
    next_after: datetime | None = Field(
        description="Pass as `after` for the next page; null on the last page."
    )


class BucketOut(_Out):
    start: datetime
    end: datetime
    first: float | None
    last: float | None
    min: float | None
    max: float | None
    avg: float | None = Field(description="Mean of the values (not time-weighted).")
    count: int = Field(description="Samples in the bucket, any quality.")
    value_count: int
    good_count: int
    gap: bool = Field(description="Nothing to draw: no fresh good value.")
    carried: bool = Field(
        description="No samples, but the last good value before is fresh: values are that value."
    )


class TrendOut(_Out):
    tag: str
    from_: datetime = Field(alias="from")
    to: datetime
    source: TrendSource = Field(description="Where the buckets were aggregated from.")
    points: int
    staleness_s: float = Field(description="How long a good value is carried into empty buckets.")
    buckets: list[BucketOut]


class SummaryOut(_Out):
    tag: str
    from_: datetime = Field(alias="from")
    to: datetime
    min: float | None
    min_ts: datetime | None
    max: float | None
    max_ts: datetime | None
    time_weighted_avg: float | None
    avg: float | None
    count: int
    value_count: int
    good_count: int
    percent_good: float | None
    first_ts: datetime | None
    last_ts: datetime | None


# --- events ----------------------------------------------------------------------------------


class EventOut(_Out):
    id: int
    ts: datetime
    kind: str
    source: str
    message: str
    attributes: dict[str, Any]


class EventsOut(_Out):
    events: list[EventOut] = Field(description="Newest first.")
    limit: int = Field(description="The most events returned (the request's, capped).")
