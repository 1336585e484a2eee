"""Bulk acknowledge on the alarm page, in a real browser: an operator ticks two alarms with
the keyboard and acknowledges them with one comment (each journaled and audited on its own);
an alarm acknowledged elsewhere meanwhile is shown as refused, with why; "acknowledge all"
asks for a confirmation first."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import Console, Station

WAIT = 30_000
MAINS = "station.mains_ok"
GENERATOR = "station.generator_running"
"""A power failure raises the mains alarm (after its 5 s on-delay) and, once the standby
generator runs, the generator alarm: two alarms of the seed's that no other test raises."""


def waiting_row(page: Any, tag: str) -> Any:
    """The row of `tag`'s alarm, once it waits for an acknowledgement."""
    row = page.locator(f"#alarm-table tr[data-alarm^='{tag}.']:has(input[data-select])")
    row.wait_for(timeout=WAIT)
    return row


def test_an_operator_acknowledges_two_alarms_at_once(console: Console, station: Station):
    page = console.open("alice", "/alarms")
    page.click("#tab-unacknowledged")
    try:
        station.scenario("power-failure")
        mains = str(waiting_row(page, MAINS).get_attribute("data-alarm"))
        generator = str(waiting_row(page, GENERATOR).get_attribute("data-alarm"))
    finally:
        station.scenario("normal")
    assert page.is_disabled("#bulk-selected")

    for alarm in (mains, generator):  # the keyboard: focus, then Space
        page.focus(f"#alarm-table input[data-select='{alarm}']")
        page.keyboard.press("Space")
    page.wait_for_function(
        "() => document.querySelector('#bulk-selected').textContent.includes('(2)')"
    )
    page.click("#bulk-selected")
    page.locator("#bulk-dialog-list li").nth(1).wait_for()
    items = page.locator("#bulk-dialog-list li")
    listed = set(items.evaluate_all("items => items.map((item) => item.dataset.alarm)"))
    assert listed == {mains, generator}
    page.fill("#bulk-comment", "power cut: generator on, utility told")
    page.click("#bulk-dialog-ok")

    page.wait_for_selector("#bulk-result [data-acknowledged='2']", timeout=WAIT)
    assert page.locator("#bulk-refused").count() == 0
    page.click("#tab-all")
    for alarm in (mains, generator):
        # Drawn from the stream, which tells of the acknowledgement a moment later.
        row = page.locator(f"#alarm-table tr[data-alarm='{alarm}']:not(:has(input))")
        row.wait_for(timeout=WAIT)
        assert "alice: power cut: generator on, utility told" in str(row.text_content())

    audit = console.open("erin", "/audit")
    entries = audit.request.get(
        station.url + "/api/v1/audit",
        params={"from": "now-1h", "action": "alarm.acknowledge", "limit": 1000},
    ).json()["entries"]
    bulk = {
        entry["target"]: entry
        for entry in entries
        if entry["actor"] == "alice" and (entry["new_value"] or {}).get("bulk")
    }
    for alarm in (mains, generator):
        entry = bulk[f"alarm:{alarm}"]  # one row per alarm
        assert entry["result"] == "ok"
        assert entry["via"] == "session"
        assert entry["new_value"]["comment"] == "power cut: generator on, utility told"


def mains_alarm_waiting(page: Any, station: Station) -> str:
    """A power failure and back: the mains alarm waits for an acknowledgement (cleared)."""
    try:
        station.scenario("power-failure")
        return str(waiting_row(page, MAINS).get_attribute("data-alarm"))
    finally:
        station.scenario("normal")


def test_a_refusal_is_shown_and_acknowledge_all_asks_first(console: Console, station: Station):
    page = console.open("alice", "/alarms")
    page.click("#tab-unacknowledged")
    mains = mains_alarm_waiting(page, station)

    # Acknowledge all: the dialog names what waits, and nothing happens before "Yes".
    page.click("#bulk-all")
    page.locator(f"#bulk-dialog[open] #bulk-dialog-list li[data-alarm='{mains}']").wait_for()
    assert "every alarm of the station" in str(page.text_content("#bulk-dialog-what"))
    assert str(page.text_content("#bulk-dialog-ok")).startswith("Yes, acknowledge all")
    page.keyboard.press("Escape")
    page.locator("#bulk-dialog").wait_for(state="hidden")
    assert page.locator(f"#alarm-table input[data-select='{mains}']").count() == 1

    # A selection of which one was acknowledged elsewhere while the dialog was open.
    page.check(f"#alarm-table input[data-select='{mains}']")
    page.click("#bulk-selected")
    page.locator("#bulk-dialog[open]").wait_for()
    csrf = page.get_attribute("meta[name=csrf-token]", "content")
    elsewhere = page.request.post(
        f"{station.url}/api/v1/alarms/{mains}/ack",
        data={"comment": "from the control room"},
        headers={"X-CSRF-Token": str(csrf)},
    )
    assert elsewhere.status == 200, elsewhere.text()
    page.fill("#bulk-comment", "seen")
    page.click("#bulk-dialog-ok")
    refused = page.locator(f"#bulk-refused li[data-alarm='{mains}']")
    refused.wait_for(timeout=WAIT)
    assert "waiting" in str(refused.text_content()) or "acknowledg" in str(refused.text_content())
    assert page.locator("#bulk-result [data-acknowledged='0']").count() == 1

    # Another power failure; this time all are acknowledged, after the confirmation.
    page.wait_for_selector(f"#alarm-table tr[data-alarm='{mains}']", state="detached", timeout=WAIT)
    mains_alarm_waiting(page, station)
    page.click("#bulk-all")
    page.locator(f"#bulk-dialog[open] #bulk-dialog-list li[data-alarm='{mains}']").wait_for()
    page.fill("#bulk-comment", "all seen")
    page.click("#bulk-dialog-ok")
    page.wait_for_selector("#bulk-result p:not([data-acknowledged='0'])", timeout=WAIT)
    assert mains in str(page.text_content("#bulk-result"))
    page.wait_for_function(
        "() => document.querySelectorAll('#alarm-table input[data-select]').length === 0",
        timeout=WAIT,
    )
