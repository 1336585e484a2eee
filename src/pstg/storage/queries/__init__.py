"""Reading the time series: raw pages, chart trends, summaries and the latest values.

The REST API calls these; each takes an Engine (or an open Connection), a tag id and aware
datetimes, and returns plain records (NamedTuples, slotted dataclasses) with times converted
back to datetimes. Invalid arguments raise ValueError with the reason. One module per query:

- `series` (series.py): raw samples of one tag, a page at a time.
- `trend` (trend.py, carry.py): `points` equal buckets over a range, first/last/min/max/avg
  and counts, from the coarsest level that fits; empty buckets are gaps or carried values.
- `summary` (summary.py): min/max/averages/counts over a range.
- `latest` (latest.py): the last stored sample of each tag, in one query.

levels.py says which level (raw, 1-minute, 1-hour) answers which part of a range: the writer
writes a rollup bucket once it closes, so the newest part is read from the level below.
"""

from pstg.storage.queries.common import SeriesPoint
from pstg.storage.queries.latest import latest
from pstg.storage.queries.records import Trend, TrendBucket, TrendSource
from pstg.storage.queries.series import MAX_SERIES_LIMIT, SeriesPage, series
from pstg.storage.queries.summary import SUMMARY_RAW_SPAN, TWA_RAW_SPAN, Summary, summary
from pstg.storage.queries.trend import (
    DEFAULT_HEARTBEAT,
    DEFAULT_STALENESS,
    MAX_TREND_POINTS,
    trend,
)

__all__ = [
    "DEFAULT_HEARTBEAT",
    "DEFAULT_STALENESS",
    "MAX_SERIES_LIMIT",
    "MAX_TREND_POINTS",
    "SUMMARY_RAW_SPAN",
    "TWA_RAW_SPAN",
    "SeriesPage",
    "SeriesPoint",
    "Summary",
    "Trend",
    "TrendBucket",
    "TrendSource",
    "latest",
    "series",
    "summary",
    "trend",
]
