"""Issue 13's "Tests in a real browser", each against the running gateway and simulator.
The tests share one station, so each leaves the simulator in the normal scenario."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.console.conftest import PASSWORD, Console, Station

WAIT = 30_000
"""Milliseconds a page may take to show what is awaited (generous: the machine is shared)."""


def level_text(page: Any) -> str:
    return str(page.text_content(".well-readout [data-tag='wet_well.level']")).strip()


def test_an_operator_logs_in_and_sees_the_level_change(console: Console):
    page = console.open("alice")

    page.wait_for_function(
        "() => document.querySelector(\".well-readout [data-tag='wet_well.level']\")"
        ".dataset.quality === 'good'",
        timeout=WAIT,
    )
    first = level_text(page)
    assert re.fullmatch(r"\d+(\.\d+)?", first), first
    page.wait_for_function(
        "first => document.querySelector(\".well-readout [data-tag='wet_well.level']\")"
        ".textContent.trim() !== first",
        arg=first,
        timeout=WAIT,
    )
    assert page.text_content(".user") is not None
    assert "alice" in str(page.text_content(".user"))
    assert page.is_visible("#alarm-banner")
    # The process picture comes from the config: three pumps, the set points on the bar.
    assert page.locator("article.pump").count() == 3
    assert page.locator("[data-mark-tag='setpoint.lead_start']").count() == 1
    assert page.locator(".mark-limit").count() == 3  # high-high, high, low
    # Pushed by the server, not polled.
    assert "/api/v1/stream" in console.watch.paths
    assert "/api/v1/tags" not in console.watch.paths


def test_the_session_cookie_is_http_only_and_logout_ends_it(console: Console, station: Station):
    page = console.open("alice")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies["pstg_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # no script can read it

    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto(station.url + "/alarms")
    page.wait_for_url("**/login?next=/alarms")
    replayed = page.request.get(
        station.url + "/api/v1/tags",
        headers={"Cookie": f"pstg_session={session['value']}"},
    )
    assert replayed.status == 401


def test_the_consoles_login_passes_and_another_sites_login_form_is_refused(
    console: Console, station: Station
):
    # The console's own login: a same-origin POST, as Chromium labels it.
    context = console.browser.new_context()
    console.contexts.append(context)
    page = console.watch.page(context.new_page())
    page.goto(station.url + "/login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    with page.expect_response("**/api/v1/auth/session") as answer:
        page.click("#login button[type=submit]")
    assert answer.value.status == 200
    # Chromium sends Origin (and Sec-Fetch-Site: same-origin, which Playwright does not see).
    assert answer.value.request.all_headers().get("origin") in (station.url, "null")
    page.wait_for_url(station.url + "/")

    # Another site's page (localhost is another site than 127.0.0.1) posting a login form.
    # Its own context: its requests to that site are the point here, not a console's fault.
    elsewhere = console.browser.new_context()
    console.contexts.append(elsewhere)
    attacker = elsewhere.new_page()
    form = (
        f'<form method="post" action="{station.url}/api/v1/auth/session">'
        '<input name="username" value="alice"><input name="password" value="' + PASSWORD + '">'
        '<button type="submit">win a prize</button></form>'
    )
    attacker.route(
        "http://localhost:9/prize",
        lambda route: route.fulfill(status=200, content_type="text/html", body=form),
    )
    attacker.goto("http://localhost:9/prize")
    with attacker.expect_response("**/api/v1/auth/session") as refused:
        attacker.click("button")
    assert refused.value.status == 403
    assert "Sec-Fetch-Site: cross-site" in refused.value.json()["detail"]
    assert not [c for c in elsewhere.cookies(station.url) if c["name"] == "pstg_session"]


def test_a_storm_raises_the_high_level_alarm_which_is_acknowledged_and_audited(
    console: Console, station: Station
):
    page = console.open("alice", "/alarms")
    try:
        station.scenario("storm")
        high = station.call(lambda: station.simulator.stations[0].setpoints.high_level)
        # Let the storm fill the well in simulated time rather than wait for it.
        for _ in range(600):
            level = station.call(lambda: station.simulator.stations[0].level)
            if level > high + 0.1:
                break
            station.call(lambda: station.simulator.advance(20))
        banner = page.locator("#banner-list li[data-alarm='wet_well.level.high']")
        banner.wait_for(timeout=WAIT)
        assert "Wet well level high" in str(banner.text_content())

        row = page.locator("#alarm-table tr[data-alarm='wet_well.level.high']")
        row.locator("button[data-action=ack]").click()
        page.fill("#alarm-comment", "storm: fitter called")
        page.click("#alarm-dialog-ok")
        page.wait_for_function(
            "() => !document.querySelector(\"#alarm-table tr[data-alarm='wet_well.level.high'] "
            'button[data-action=ack]")',
            timeout=WAIT,
        )
        assert "storm: fitter called" in str(row.text_content())
    finally:
        station.scenario("normal")

    audit = console.open("erin", "/audit")
    entry = audit.locator("#audit-table tr[data-action='alarm.acknowledge'][data-actor=alice]")
    entry.first.wait_for(timeout=WAIT)
    assert "alarm:wet_well.level.high" in str(entry.first.text_content())
    audit.click("#audit-verify")
    audit.wait_for_function(
        "() => document.querySelector('#audit-verdict').textContent.startsWith('The chain holds')",
        timeout=WAIT,
    )


def test_a_viewer_sees_no_controls_and_the_api_refuses_a_hand_made_post(
    console: Console, station: Station
):
    console.watch.expected_statuses.add(403)
    page = console.open("vera")
    page.wait_for_selector("article.pump")
    assert page.locator("[data-command]").count() == 0
    assert page.locator("nav a[href='/audit']").count() == 0
    assert page.locator("nav a[href='/users']").count() == 0

    page.goto(station.url + "/alarms")
    page.wait_for_selector("#alarm-table thead th")
    assert page.locator("#alarm-table thead th", has_text="Actions").count() == 0
    assert page.locator("button[data-action]").count() == 0

    csrf = page.get_attribute("meta[name=csrf-token]", "content")
    refused = page.evaluate(
        """async ([csrf]) => {
            const post = (path, body) => fetch(path, {method: "POST", body: JSON.stringify(body),
                headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
            const ack = await post("/api/v1/alarms/wet_well.level.high/ack", {comment: "me"});
            const command = await post("/api/v1/commands", {tag: "pump2.remote_mode", value: true});
            const noCsrf = await fetch("/api/v1/alarms/wet_well.level.high/ack", {method: "POST",
                body: "{}", headers: {"Content-Type": "application/json"}});
            return [ack.status, await ack.json(), command.status, await command.json(),
                    noCsrf.status];
        }""",
        [csrf],
    )
    ack_status, ack, command_status, command, without_csrf = refused
    assert ack_status == 403, ack
    assert "needs the role operator" in ack["detail"]
    assert command_status == 403, command
    assert command["rule"] == "role"
    assert without_csrf == 403

    denied = console.browser.new_context()
    console.contexts.append(denied)
    page.goto(station.url + "/audit")
    assert "needs the role engineer" in str(page.text_content("main"))


def test_values_of_an_offline_device_are_marked_bad_and_recover(console: Console, station: Station):
    page = console.open("alice")
    value = ".well-readout [data-tag='wet_well.level']"
    page.wait_for_function(f'() => document.querySelector("{value}").dataset.quality === "good"')
    try:
        station.scenario("offline:8s")
        page.wait_for_function(
            f'() => document.querySelector("{value}").dataset.quality === "bad"', timeout=WAIT
        )
        assert page.text_content(value) == "BAD"
        title = str(page.get_attribute(value, "title"))
        assert re.search(r"bad: (comm_failure|timeout|device_failure)", title), title
        assert page.locator(".pump .bit[data-quality=bad]").count() > 0
        page.wait_for_function(
            f'() => document.querySelector("{value}").dataset.quality === "good"', timeout=WAIT
        )
    finally:
        station.scenario("normal")
    assert re.fullmatch(r"\d+(\.\d+)?", level_text(page))


def test_a_trend_zoom_asks_for_a_narrower_range_and_redraws(console: Console, station: Station):
    page = console.open("erin", "/trends?tag=wet_well.level&tag=station.inflow&range=15m")
    asked: list[dict[str, list[str]]] = []
    page.on(
        "request",
        lambda request: (
            asked.append(parse_qs(urlsplit(request.url).query))
            if "/api/v1/trends" in request.url
            else None
        ),
    )
    page.wait_for_function("() => Number(document.querySelector('#chart').dataset.draws) >= 1")
    draws = int(str(page.get_attribute("#chart", "data-draws")))
    before_from = str(page.get_attribute("#chart", "data-from"))
    before_to = str(page.get_attribute("#chart", "data-to"))
    points = int(str(page.get_attribute("#chart", "data-points")))
    plot_width = page.evaluate("document.querySelector('#chart .u-over').clientWidth")
    assert abs(points - plot_width) <= 2  # a bucket per pixel column

    over = page.locator("#chart .u-over").bounding_box()
    assert over is not None
    y = over["y"] + over["height"] / 2
    page.mouse.move(over["x"] + over["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] * 0.7, y, steps=8)
    page.mouse.up()

    page.wait_for_function(
        "draws => Number(document.querySelector('#chart').dataset.draws) > draws",
        arg=draws,
        timeout=WAIT,
    )
    zoomed = [query for query in asked if query.get("tag") == ["wet_well.level"]]
    assert zoomed, asked
    start, end = zoomed[-1]["from"][0], zoomed[-1]["to"][0]
    span_before = _seconds(before_to) - _seconds(before_from)
    span_after = _seconds(end) - _seconds(start)
    assert span_after < span_before * 0.5
    assert _seconds(before_from) <= _seconds(start) < _seconds(end) <= _seconds(before_to) + 1
    assert str(page.get_attribute("#chart", "data-from")) == start

    with page.expect_download() as download:
        page.click("#csv")
    lines = open(download.value.path()).read().splitlines()  # noqa: SIM115
    assert lines[0].startswith('"start","end","wet_well.level first"')
    assert len(lines) == int(zoomed[-1]["points"][0]) + 1


def _seconds(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_a_command_from_the_overview_is_selected_operated_and_confirmed(
    console: Console, station: Station
):
    page = console.open("alice")
    page.click("button[data-command='pump2.remote_mode']")
    dialog = page.locator("#command-dialog")
    dialog.wait_for()
    page.check("#command-value-true")
    page.fill("#command-comment", "browser test")
    assert station.live("pump2.remote_mode") in (0, False, None)
    page.click("#command-select")
    page.wait_for_function(
        "() => document.querySelector('#command-countdown').textContent.startsWith('Selected')"
    )
    assert station.live("pump2.remote_mode") in (0, False, None)  # a selection writes nothing
    page.click("#command-operate")
    page.wait_for_function(
        "() => document.querySelector('#command-result').textContent === 'confirmed'", timeout=WAIT
    )
    assert "Confirmed" in str(page.text_content("#command-status"))
    page.click("#command-close")

    # Back to local control: the test leaves the station as it found it.
    page.click("button[data-command='pump2.remote_mode']")
    page.check("#command-value-false")
    page.click("#command-select")
    page.wait_for_selector("#command-operate:not([disabled])")
    page.click("#command-operate")
    page.wait_for_function(
        "() => document.querySelector('#command-result').textContent === 'confirmed'", timeout=WAIT
    )


def test_a_command_refused_by_an_interlock_shows_its_message(console: Console):
    console.watch.expected_statuses.add(409)
    page = console.open("alice")
    page.click("button[data-command='pump3.remote_run']")
    page.locator("#command-dialog").wait_for()
    failing = page.locator("#command-interlocks li[data-holds=false]")
    failing.first.wait_for()
    assert "pump 3 is not in remote mode" in str(failing.first.text_content())

    page.click("#command-select")
    page.wait_for_function(
        "() => document.querySelector('#command-status').textContent.includes('interlock')",
        timeout=WAIT,
    )
    status = str(page.text_content("#command-status"))
    assert "pump 3 is not in remote mode" in status
    assert "[interlock]" in status


def test_every_page_renders_for_an_admin_at_tablet_and_control_room_sizes(
    console: Console, station: Station
):
    for width, height in ((1024, 768), (1920, 1080)):
        page = console.open("ada", "/", width=width, height=height)
        # A failed delivery in the journal: its error is the longest text of that page.
        csrf = str(page.get_attribute("meta[name=csrf-token]", "content"))
        sent = page.request.post(
            station.url + "/api/v1/notifications/test",
            data={"to": "operators", "comment": "layout"},
            headers={"X-CSRF-Token": csrf},
        )
        assert sent.status == 200, sent.text()
        pages = ("/", "/alarms", "/notifications", "/trends", "/events", "/devices", "/audit")
        for path in (*pages, "/users"):
            page.goto(station.url + path)
            page.wait_for_selector("#link-state[data-state=up]")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} at {width}px is {overflow}px too wide"
        page.goto(station.url + "/devices")
        page.wait_for_selector("#device-table tr[data-device=plc1]")
        page.goto(station.url + "/users")
        page.wait_for_selector("#user-table tr[data-user=vera]")
        page.goto(station.url + "/events")
        page.wait_for_selector("#event-table tbody tr")


def test_the_pages_have_a_strict_content_security_policy(station: Station):
    import urllib.request

    with urllib.request.urlopen(station.url + "/login") as answer:
        policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "default-src 'none'" in policy
    json.dumps(policy)
    time.sleep(0)
