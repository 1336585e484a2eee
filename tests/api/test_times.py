"""Times and durations through the API, case by case from the shared table
(tests/support/time_cases.py): what the grammar accepts answers, what it refuses is a 422 with
the grammar's own message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pstg.auth.roles import Role
from pstg.times import format_instant
from tests.api.conftest import Api
from tests.support.time_cases import DURATIONS, INSTANTS, Accepted

FAR = "now+1000w"
US = timedelta(microseconds=1)


async def test_instants_in_query_parameters(api: Api) -> None:
    exact = [
        case.value
        for case in INSTANTS
        if isinstance(case, Accepted) and isinstance(case.value, datetime) and not case.relative
    ]
    moments = sorted(set(exact) | {moment - US for moment in exact})
    api.journal(*((moment, "config_loaded", "test", format_instant(moment)) for moment in moments))
    for case in INSTANTS:
        if isinstance(case, Accepted) and not case.relative:
            assert isinstance(case.value, datetime)
            to = format_instant(case.value + US)
            response = await api.get("/api/v1/events", **{"from": case.text, "to": to})
            assert response.status_code == 200, (case, response.text)
            # from is inclusive: exactly the event at that instant, not the one before it.
            assert [event["ts"] for event in response.json()["events"]] == [
                format_instant(case.value)
            ], case
        elif isinstance(case, Accepted):
            response = await api.get("/api/v1/events", **{"from": case.text, "to": FAR})
            assert response.status_code == 200, (case, response.text)
        else:
            response = await api.get("/api/v1/events", **{"from": case.text})
            assert response.status_code == 422, (case, response.text)
            assert response.json()["detail"].startswith("query parameter 'from': ")
            assert case.message in response.json()["detail"], case


async def test_a_plus_that_arrived_as_a_space_is_read_as_plus(api: Api) -> None:
    moment = datetime(2026, 3, 2, 6, tzinfo=UTC)
    api.journal((moment, "config_loaded", "test", "at six"))
    response = await api.get(
        "/api/v1/events", **{"from": "2026-03-02T08:00:00 02:00", "to": "2026-03-02T06:00:01Z"}
    )
    assert response.status_code == 200, response.text
    assert [event["message"] for event in response.json()["events"]] == ["at six"]


async def test_durations_in_bodies(api: Api) -> None:
    headers = await api.headers(Role.OPERATOR)
    for case in DURATIONS:
        response = await api.client.post(
            "/api/v1/alarms/no-such-alarm/shelve",
            json={"comment": "test", "duration": case.text},
            headers=headers,
        )
        if isinstance(case, Accepted):
            # The duration is read first; then it is held against the shelving limit (8 h, more
            # than 0) and the alarm looked up (and not found).
            assert response.status_code in (404, 409), (case, response.text)
            if response.status_code == 409:
                assert "shelve duration" in response.json()["detail"], case
        else:
            assert response.status_code == 422, (case, response.text)
            assert response.json()["detail"].startswith("duration: "), case
            assert case.message in response.json()["detail"], case
