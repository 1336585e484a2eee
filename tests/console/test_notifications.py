"""The notifications page in a real browser: an engineer sends a test notification and sees
how each channel went (the e-mail reaches the SMTP server, the pager webhook, where nothing
listens, fails); an operator reads the journal, the failure marked, and filters it; the alarm
page links to an alarm's notifications; a viewer has neither the menu entry nor the page."""

from __future__ import annotations

from urllib.parse import unquote

from tests.console.conftest import Console, Station
from tests.notify.servers import wait_until

WAIT = 30_000


def test_an_engineer_sends_a_test_notification_and_sees_each_channel(
    console: Console, station: Station
):
    page = console.open("erin", "/notifications")
    page.fill("#notify-to", "operators")
    page.fill("#notify-comment", "console test")
    page.click("#notify-send")

    email = page.locator("#notify-test-result tr[data-channel=email]")
    email.wait_for(timeout=WAIT)
    assert email.get_attribute("data-delivered") == "true"
    assert "alice" in str(email.text_content())
    pager = page.locator("#notify-test-result tr[data-channel=pager]")
    assert pager.get_attribute("data-delivered") == "false"
    assert "✗ FAILED" in str(pager.text_content())
    assert "Not every delivery" in str(page.text_content("#notify-test-status"))
    wait_until(lambda: bool(station.mailbox.to("alice@localhost")), seconds=30)

    # The journal below has both attempts now, newest first.
    page.locator("#notify-table tr[data-result=failed]").first.wait_for(timeout=WAIT)


def test_an_operator_reads_the_journal_with_failures_marked_and_filters_it(
    console: Console, station: Station
):
    setup = console.open("erin", "/notifications")  # a failure to find, whatever ran before
    setup.fill("#notify-to", "dora")
    setup.click("#notify-send")
    setup.locator("#notify-test-result tr[data-channel=pager]").wait_for(timeout=WAIT)

    page = console.open("alice", "/notifications")
    assert page.locator("#notify-test").count() == 0  # tests are for engineers
    assert page.locator("nav a[href='/notifications']").count() == 1
    failed = page.locator("#notify-table tr.notify-failed")
    failed.first.wait_for(timeout=WAIT)
    row = str(failed.first.text_content())
    for shown in ("pager", "dora", "✗ FAILED", "test"):
        assert shown in row
    assert failed.first.locator("td").nth(7).text_content()  # the error is shown

    page.select_option("#notify-result", "delivered")
    page.wait_for_function(
        "() => document.querySelectorAll('#notify-table tbody tr').length > 0 &&"
        " [...document.querySelectorAll('#notify-table tbody tr')]"
        ".every((row) => row.dataset.result === 'delivered')",
        timeout=WAIT,
    )
    page.select_option("#notify-result", "")
    page.fill("#notify-recipient", "dora")
    page.press("#notify-recipient", "Enter")  # commits the field: a change event
    page.click("#notify-refresh")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#notify-table tbody tr')]"
        ".every((row) => row.cells[2].textContent === 'dora')",
        timeout=WAIT,
    )
    page.fill("#notify-alarm", "no.such.alarm")
    page.click("#notify-refresh")
    page.locator("#notify-empty").wait_for(timeout=WAIT)
    assert "alarm=no.such.alarm" in page.url


def test_the_alarm_page_links_to_an_alarms_notifications(console: Console, station: Station):
    page = console.open("alice", "/alarms")
    page.click("#tab-all")
    first = page.locator("#alarm-table a.journal-link").first
    first.wait_for(timeout=WAIT)
    href = str(first.get_attribute("href"))
    alarm = unquote(href.split("alarm=", 1)[1])
    # That very link: the live stream may redraw and reorder the table in between.
    page.locator(f"#alarm-table a.journal-link[href='{href}']").first.click()
    page.wait_for_url("**/notifications?alarm=*")
    page.wait_for_selector("body[data-ready]", state="attached")  # the page's module started
    assert page.input_value("#notify-alarm") == alarm


def test_a_viewer_has_no_notifications_page(console: Console, station: Station):
    console.watch.expected_statuses.add(403)
    page = console.open("vera")
    assert page.locator("nav a[href='/notifications']").count() == 0
    answer = page.goto(station.url + "/notifications")
    assert answer is not None
    assert answer.status == 403
    assert "needs the role operator" in str(page.text_content("main"))
    journal = page.request.get(station.url + "/api/v1/notifications")
    assert journal.status == 403
