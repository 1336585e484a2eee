"""The planner as tables of steps: who is told what, when, with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pstg.config.notifications import NotificationsConfig
from pstg.notify.message import AlarmInfo, Digest, Notice, NoticeKind, Told
from pstg.notify.planner import Outgoing, Planner
from tests.notify.support import T0, Clock, raised, section, step


def planner(config: NotificationsConfig | None = None) -> Planner:
    config = config or section()
    return Planner(
        config, config.channel_names(), station_id="ps-01", console_url="http://127.0.0.1:8000/"
    )


def told(out: list[Outgoing]) -> list[tuple[str, str]]:
    return [(o.recipient.name, o.content.kind.value) for o in out]


def test_a_high_alarm_goes_to_the_first_level_at_once_and_a_low_one_nowhere() -> None:
    plan = planner()
    out = plan.on_alarm(raised(), T0)
    assert told(out) == [("alice", "raised")]
    notice = out[0].content
    assert isinstance(notice, Notice)
    assert notice.link == "http://127.0.0.1:8000/?alarm=wet_well.level.high"
    assert plan.on_alarm(raised("pump1.not_auto", priority="low"), T0) == []


def test_unacknowledged_alarms_escalate_and_remind_until_acknowledged() -> None:
    config = section(routes=[{
        "name": "urgent", "repeat": "10m",
        "levels": [{"to": ["alice"]}, {"after": "15m", "to": ["bob"]},
                   {"after": "30m", "to": ["carol"]}],
    }])  # fmt: skip
    plan, clock = planner(config), Clock()
    assert told(plan.on_alarm(raised(), clock.now)) == [("alice", "raised")]
    assert plan.tick(clock.advance(minutes=9)) == []
    assert told(plan.tick(clock.advance(minutes=1))) == [("alice", "reminder")]
    assert told(plan.tick(clock.advance(minutes=5))) == [("bob", "escalated")]
    assert told(plan.tick(clock.advance(minutes=5))) == [("alice", "reminder"), ("bob", "reminder")]
    ack = step("wet_well.level.high", "unacknowledged", "acknowledged", "acknowledged", user="bob")
    assert told(plan.on_alarm(ack, clock.now)) == [
        ("alice", "acknowledged"),
        ("bob", "acknowledged"),
    ]
    assert plan.tick(clock.advance(hours=2)) == []  # carol is never called
    clear = step("wet_well.level.high", "acknowledged", "normal", "cleared", value=2.8)
    assert told(plan.on_alarm(clear, clock.now)) == [("alice", "cleared"), ("bob", "cleared")]
    assert plan.episodes == {}


def test_an_acknowledgement_before_the_delay_keeps_the_second_level_out_of_it() -> None:
    plan, clock = planner(), Clock()
    plan.on_alarm(raised(), clock.now)
    clock.advance(minutes=14)
    plan.on_alarm(
        step("wet_well.level.high", "unacknowledged", "acknowledged", "acknowledged"), clock.now
    )
    assert plan.tick(clock.advance(minutes=30)) == []


def test_a_clear_while_unacknowledged_is_announced_and_ends_escalation() -> None:
    plan, clock = planner(), Clock()
    plan.on_alarm(raised(), clock.now)
    out = plan.on_alarm(
        step("wet_well.level.high", "unacknowledged", "returned_unacknowledged", "cleared"),
        clock.now,
    )
    assert told(out) == [("alice", "cleared")]
    assert plan.tick(clock.advance(minutes=20)) == []


def test_shelving_ends_the_episode() -> None:
    plan, clock = planner(), Clock()
    plan.on_alarm(raised(), clock.now)
    out = plan.on_alarm(
        step("wet_well.level.high", "unacknowledged", "shelved", "shelved", user="ops"), clock.now
    )
    assert told(out) == [("alice", "masked")]
    assert plan.episodes == {}


def test_routes_filter_by_priority_station_and_tag_pattern() -> None:
    config = section(routes=[
        {"name": "wells", "tags": ["wet_well.*"], "levels": [{"to": ["alice"]}]},
        {"name": "pumps", "tags": ["pump?.*"], "stations": ["ps-*"], "levels": [{"to": ["bob"]}]},
        {"name": "elsewhere", "stations": ["ls-*"], "levels": [{"to": ["carol"]}]},
        {"name": "critical", "priorities": ["critical"], "levels": [{"to": ["carol"]}]},
    ])  # fmt: skip
    plan = planner(config)
    assert told(plan.on_alarm(raised(), T0)) == [("alice", "raised")]
    assert told(plan.on_alarm(raised("pump1.fault", tag="pump1.fault"), T0)) == [("bob", "raised")]
    assert told(plan.on_alarm(raised("x", tag="x", priority="critical"), T0)) == [
        ("carol", "raised")
    ]


def test_a_flood_of_fifty_alarms_gives_ten_messages_then_one_digest() -> None:
    plan, clock = planner(), Clock()
    out: list[Outgoing] = []
    for n in range(50):
        out += plan.on_alarm(raised(f"a{n}", tag=f"t{n}"), clock.now)
        clock.advance(seconds=5)
    assert len(out) == 10  # EEMUA 191: more than 10 in 10 minutes is a flood
    assert plan.flooding
    assert plan.tick(clock.now) == []  # held for the digest interval (5 min from the 11th)
    digests = plan.tick(clock.advance(minutes=5))
    assert len(digests) == 1
    digest = digests[0].content
    assert isinstance(digest, Digest)
    assert len(digest.notices) == 40
    assert digest.alarm_ids[:2] == ["a10", "a11"]


def test_the_rota_decides_who_is_first_by_local_time_and_holidays() -> None:
    config = section(
        rotas=[{
            "name": "on-call", "time_zone": "America/Chicago",
            "shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00",
                        "on_call": ["alice"]},
                       {"start": "19:00", "on_call": ["bob"]}],
            "holidays": {"dates": ["2025-07-04"], "on_call": ["carol"]},
        }],
        routes=[{"name": "all", "levels": [{"to": ["on-call"]}]}],
    )  # fmt: skip
    plan = planner(config)

    def first(at: datetime) -> str:
        out = plan.on_alarm(raised(f"x{at.timestamp()}"), at)
        return out[0].recipient.name

    # 3 a.m. UTC Tuesday is 9 p.m. Monday in Chicago (CST): the night shift
    assert first(T0) == "bob"
    assert first(datetime(2025, 3, 4, 14, 0, tzinfo=UTC)) == "alice"  # 08:00 CST
    # Saturday 10:00 CDT: no day shift at weekends, Friday night's bob goes on
    assert first(datetime(2025, 3, 15, 15, 0, tzinfo=UTC)) == "bob"
    # After the change to daylight time, 07:00 is still the handover (12:00 UTC, not 13:00)
    assert first(datetime(2025, 3, 10, 12, 1, tzinfo=UTC)) == "alice"
    assert first(datetime(2025, 3, 10, 11, 59, tzinfo=UTC)) == "bob"
    assert first(datetime(2025, 7, 4, 15, 0, tzinfo=UTC)) == "carol"  # Independence Day


def test_a_person_is_told_on_each_of_their_channels_a_planner_serves() -> None:
    config = section(
        webhooks=[{"name": "sms", "url": "http://127.0.0.1:9/sms", "template": "sms"}],
        people=[{"name": "alice", "email": "alice@localhost", "phone": "+1 555 0100",
                 "via": ["email", "sms"]}, {"name": "bob", "email": "bob@localhost"}],
    )  # fmt: skip
    email_only = Planner(config, ["email"], station_id="ps-01")
    sms_only = Planner(config, ["sms"], station_id="ps-01")
    assert [(o.channel, o.recipient.name) for o in email_only.on_alarm(raised(), T0)] == [
        ("email", "alice")
    ]
    assert [(o.channel, o.recipient.phone) for o in sms_only.on_alarm(raised(), T0)] == [
        ("sms", "+1 555 0100")
    ]


def test_notification_failed_also_goes_to_the_failure_recipients() -> None:
    config = section(failure_alarm={"to": ["carol"]})
    plan = planner(config)
    out = plan.on_alarm(raised("notification_failed", tag=None, value=None), T0)
    assert told(out) == [("alice", "raised"), ("carol", "raised")]
    assert all(o.content.kind is NoticeKind.RAISED for o in out)


# --- after a restart -------------------------------------------------------------------------

ESCALATING = [{
    "name": "urgent", "repeat": "10m",
    "levels": [{"to": ["alice"]}, {"after": "15m", "to": ["bob"]},
               {"after": "30m", "to": ["carol"]}],
}]  # fmt: skip
HIGH = "wet_well.level.high"


def restored() -> AlarmInfo:
    return step(HIGH, "", "unacknowledged", "restored")


def entry(person: str, kind: str, level: int, minutes: float) -> Told:
    return Told(HIGH, "urgent", level, person, kind, T0 + timedelta(minutes=minutes))


def test_a_restart_resumes_escalation_where_the_journal_left_it() -> None:
    # Raised at T0, alice told; the gateway was down from minute 5 to minute 20, when bob's
    # level came due: bob is told at the restart, alice is not told again.
    plan = planner(section(routes=ESCALATING))
    now = T0 + timedelta(minutes=20)
    out = plan.resume(restored(), T0, [entry("alice", "raised", 0, 0)], now)
    assert told(out) == [("bob", "escalated")]
    notice = out[0].content
    assert isinstance(notice, Notice)
    assert notice.level == 1
    # The reminder overdue since minute 10 is not sent on top of the escalation (as in one
    # tick without a restart); the next is due 10 minutes on, with carol's level.
    assert plan.tick(now) == []
    assert told(plan.tick(T0 + timedelta(minutes=30))) == [("carol", "escalated")]
    assert told(plan.tick(T0 + timedelta(minutes=40))) == [
        ("alice", "reminder"),
        ("bob", "reminder"),
        ("carol", "reminder"),
    ]
    ack = step(HIGH, "unacknowledged", "acknowledged", "acknowledged", user="bob")
    assert told(plan.on_alarm(ack, T0 + timedelta(minutes=41))) == [
        ("alice", "acknowledged"),
        ("bob", "acknowledged"),
        ("carol", "acknowledged"),
    ]


def test_a_restart_tells_the_first_level_when_nothing_reached_it() -> None:
    # The raise was never delivered (the gateway stopped first: not in the journal as told).
    plan = planner()
    assert told(plan.resume(restored(), T0, [], T0 + timedelta(minutes=1))) == [("alice", "raised")]
    # Long down: both levels are due at once.
    late = planner()
    assert told(late.resume(restored(), T0, [], T0 + timedelta(hours=1))) == [
        ("alice", "raised"),
        ("bob", "escalated"),
    ]


def test_reminders_resume_from_the_last_one_and_levels_told_stay_told() -> None:
    plan = planner(section(routes=ESCALATING))
    history = [
        entry("alice", "raised", 0, 0),
        entry("alice", "reminder", 0, 10),
        entry("bob", "escalated", 1, 15),
        entry("alice", "reminder", 1, 20),
        entry("bob", "reminder", 1, 20),
        entry("mallory", "reminder", 1, 20),  # not a person any more: nobody to remind
    ]
    assert plan.resume(restored(), T0, history, T0 + timedelta(minutes=25)) == []
    assert plan.tick(T0 + timedelta(minutes=29)) == []
    assert told(plan.tick(T0 + timedelta(minutes=30))) == [("carol", "escalated")]
    assert told(plan.tick(T0 + timedelta(minutes=40))) == [
        ("alice", "reminder"),
        ("bob", "reminder"),
        ("carol", "reminder"),
    ]


def test_a_resumed_alarm_that_turns_out_cleared_is_announced_and_ends() -> None:
    plan = planner()
    plan.resume(restored(), T0, [entry("alice", "raised", 0, 0)], T0 + timedelta(minutes=5))
    cleared = step(HIGH, "unacknowledged", "returned_unacknowledged", "restored")
    assert told(plan.on_alarm(cleared, T0 + timedelta(minutes=5))) == [("alice", "cleared")]
    assert plan.tick(T0 + timedelta(hours=1)) == []
