"""The time series of one tag: raw pages (/series), chart trends (/trends), summaries
(/summary). Thin: parameters in, `pstg.storage.queries` out. The endpoints are plain `def`s,
so FastAPI runs their database reads in its worker threads; /trends, the heaviest, runs its
query and its encoding in the few threads of `pstg.api.query_threads` and shares them with
the identical requests in flight (`pstg.api.shared_reads`)."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import TypeAdapter

from pstg.api.deps import Context
from pstg.api.params import (
    TagName,
    TimeRange,
    parse_time_param,
    require_numeric,
    tag_id_of,
    time_range,
)
from pstg.api.routers import API_PREFIX
from pstg.api.schemas import ErrorOut, SeriesOut, SummaryOut, TrendOut
from pstg.api.security import require
from pstg.api.shared_reads import SharedReads
from pstg.auth.roles import Role
from pstg.model import utc_now
from pstg.storage import queries
from pstg.storage.queries import MAX_SERIES_LIMIT, MAX_TREND_POINTS

DEFAULT_SERIES_LIMIT = 1000
DEFAULT_TREND_POINTS = 500
STALENESS_HEARTBEATS = 1.5
"""A good value is carried into empty trend buckets for this many heartbeats."""

router = APIRouter(
    prefix=API_PREFIX,
    tags=["time series"],
    dependencies=[Depends(require(Role.VIEWER))],
    responses={404: {"model": ErrorOut, "description": "Unknown tag."}},
)
Range = Annotated[TimeRange, Depends(time_range)]
_TREND = TypeAdapter(TrendOut)


@router.get("/series", response_model=SeriesOut, summary="Raw samples of one tag, paged")
def get_series(
    context: Context,
    tag: TagName,
    span: Range,
    limit: Annotated[
        int,
        Query(ge=1, description=f"Points per page; more than {MAX_SERIES_LIMIT} is capped."),
    ] = DEFAULT_SERIES_LIMIT,
    after: Annotated[
        str | None,
        Query(description="Only samples after this time: the previous page's `next_after`."),
    ] = None,
) -> dict[str, Any]:
    tag_id = tag_id_of(context, tag)
    limit = min(limit, MAX_SERIES_LIMIT)
    after_ts = None if after is None else parse_time_param("after", after, utc_now())
    page = queries.series(context.engine, tag_id, span.start, span.end, limit=limit, after=after_ts)
    return {
        "tag": tag,
        "from": span.start,
        "to": span.end,
        "limit": limit,
        "points": page.points,
        "next_after": page.next_after,
    }


@router.get(
    "/trends",
    response_model=TrendOut,
    summary="One tag downsampled to `points` buckets for a chart",
)
async def get_trend(
    request: Request,
    context: Context,
    tag: TagName,
    span: Range,
    points: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_TREND_POINTS,
            description=f"Buckets (chart pixels), 1 to {MAX_TREND_POINTS}; default "
            f"{DEFAULT_TREND_POINTS}.",
        ),
    ] = None,
    max_data_points: Annotated[
        int | None,
        Query(
            alias="maxDataPoints",
            ge=1,
            description="Grafana's name for `points`; above "
            f"{MAX_TREND_POINTS} it is capped. If both are given they must agree.",
        ),
    ] = None,
) -> Response:
    if max_data_points is not None:
        max_data_points = min(max_data_points, MAX_TREND_POINTS)
        if points is not None and points != max_data_points:
            raise HTTPException(
                422, f"points ({points}) and maxDataPoints ({max_data_points}) disagree"
            )
        points = max_data_points
    if points is None:
        points = DEFAULT_TREND_POINTS
    require_numeric(context, tag, "a trend")
    staleness = STALENESS_HEARTBEATS * context.config.storage.heartbeat

    def read(tag_id: int) -> bytes:
        try:
            trend = queries.trend(
                context.engine, tag_id, span.start, span.end, points, staleness=staleness
            )
        except ValueError as exc:  # a retired text tag, a range too long for the points
            raise HTTPException(422, str(exc)) from None
        answer = TrendOut.model_validate(
            {
                "tag": tag,
                "from": trend.start,
                "to": trend.end,
                "source": trend.source,
                "points": points,
                "staleness_s": trend.staleness,
                "buckets": trend.buckets,
            }
        )
        return _TREND.dump_json(answer, by_alias=True)

    def tag_read() -> bytes:
        return read(tag_id_of(context, tag))  # a retired tag's id comes from the database

    # Screens showing the same trend ask at the same moment: one query answers them all.
    key = ("trend", tag, span.start, span.end, points, staleness)
    reads = cast(SharedReads, request.app.state.shared_reads)
    return Response(await reads.run(key, tag_read), media_type="application/json")


@router.get("/summary", response_model=SummaryOut, summary="Min, max, averages and counts")
def get_summary(context: Context, tag: TagName, span: Range) -> dict[str, Any]:
    require_numeric(context, tag, "a summary")
    tag_id = tag_id_of(context, tag)
    try:
        summary = queries.summary(context.engine, tag_id, span.start, span.end)
    except ValueError as exc:  # a retired text tag
        raise HTTPException(422, str(exc)) from None
    return {"tag": tag, "from": span.start, "to": span.end, **_fields(summary)}


def _fields(summary: queries.Summary) -> dict[str, Any]:
    return {field.name: getattr(summary, field.name) for field in fields(summary)}
