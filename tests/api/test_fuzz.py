"""Whatever a client puts in the query string, every GET endpoint answers with JSON and never
with a 5xx: random and hostile tag names, times, numbers and extra parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pstg.auth.roles import Role
from pstg.model import Sample
from tests.api.conftest import TAGS, Api

T0 = datetime(2024, 3, 1, tzinfo=UTC)

hostile = st.text(alphabet="\x00\x01%'\"\\;/ +&=?#\n\té😀\u202e\ufffd-:.Z0", max_size=20)
"""Characters that break naive SQL, URL and time handling."""
offsets = st.builds(
    timezone, st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23))
)
times = st.one_of(
    st.sampled_from(
        [
            "now",
            "now-1h",
            "now-30d",
            "now+1d",
            "2024-03-01T00:00:00Z",
            "2024-03-01T00:00:00",
            "2024-03-01",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999Z",
            "2024-03-01T00:00:00+14:00",
            "2024-03-01T00:00:00 01:00",
        ]
    ),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
    ).map(datetime.isoformat),
    st.from_regex(r"now[+-][0-9]{1,12}[smhdw]", fullmatch=True),
    st.text(max_size=40),
    hostile,
)
numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**20).map(str),
    st.sampled_from(["", "0", "1", "5000", "5001", "1e3", "0x10", "NaN", " 5", "٣", "-0"]),
    st.text(max_size=10),
)
tag_names = st.one_of(st.sampled_from([*TAGS, "nope"]), st.text(max_size=200), hostile)
texts = st.one_of(st.text(max_size=100), hostile)
junk = st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=2)

GROUPS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "/api/v1/series": {
        "tag": tag_names,
        "from": times,
        "to": times,
        "limit": numbers,
        "after": times,
    },
    "/api/v1/trends": {
        "tag": tag_names,
        "from": times,
        "to": times,
        "points": numbers,
        "maxDataPoints": numbers,
    },
    "/api/v1/summary": {"tag": tag_names, "from": times, "to": times},
    "/api/v1/events": {
        "from": times,
        "to": times,
        "kind": st.lists(texts, max_size=3),
        "source": texts,
        "limit": numbers,
    },
    "/api/v1/tags": {"device": texts, "q": texts},
    "/api/v1/tokens": {"username": texts},
    "/api/v1/users/{name}": {"name": st.one_of(st.text(min_size=1, max_size=80), hostile)},
    "/api/v1/devices": {},
    "/api/v1/health": {},
    "/api/v1/config": {},
    "/api/v1/auth/me": {},
    "/metrics": {},
}


def query(group: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=GROUPS[group])


async def check(api: Api, path: str, params: dict[str, Any], extra: dict[str, str]) -> None:
    if "{name}" in path:
        path = path.format(name=quote(params.pop("name", "x"), safe=""))
    response = await api.client.get(
        path, params={**extra, **params}, headers=await api.headers(Role.ADMIN)
    )
    assert response.status_code < 500, (path, params, response.text)
    if response.is_redirect:  # /users/ with an empty name: to /users
        return
    if path == "/metrics" and response.status_code == 200:
        assert response.text.startswith("# HELP")
        return
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body["detail"], str), body
        assert body["detail"]


@pytest.mark.parametrize("group", list(GROUPS))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_query_string_makes_a_5xx(api: Api, group: str, data: st.DataObject) -> None:
    if not api.context.live.snapshot():
        api.store(
            Sample("wet_well.level", T0 + i * timedelta(minutes=7), float(i)) for i in range(50)
        )
        api.store([Sample("plc2.status", T0, "AUTO")])
        api.context.live.update([Sample("wet_well.level", T0, 1.0)])
    await check(api, group, data.draw(query(group)), data.draw(junk))
