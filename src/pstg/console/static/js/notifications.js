// The notification journal (operators): every delivery attempt, newest first, with filters;
// failed and dropped attempts stand out (text and shape, not colour alone). Engineers send a
// test notification and see how each channel went. `?alarm=ID` (the alarm page's link)
// shows one alarm's notifications.

import { get, post } from "./api.js";
import { element, fillRow, formatTime } from "./format.js";

const $ = (id) => document.getElementById(id);
const LIMIT = 1000;
const MARKED = new Set(["failed", "dropped"]);

function resultCell(result) {
  const text = result.replaceAll("_", " ");
  return element("span", { class: `result result-${result}`, text: MARKED.has(result) ? `✗ ${text.toUpperCase()}` : text });
}

function alarmCell(attempt) {
  const ids = attempt.alarm_id ? [attempt.alarm_id] : attempt.alarms ?? [];
  if (!ids.length) return "";
  // A test's alarm is made up for the message: there is no such alarm to open.
  if (attempt.kind === "test" || attempt.kind === "self_test") return ids.join(", ");
  const links = ids.map((id) => element("a", { href: `/alarms?alarm=${encodeURIComponent(id)}`, text: id }));
  return element("span", {}, ...links.flatMap((link, n) => (n ? [", ", link] : [link])));
}

async function load() {
  const filters = {
    from: $("notify-from").value, result: $("notify-result").value, channel: $("notify-channel").value,
    recipient: $("notify-recipient").value.trim(), alarm_id: $("notify-alarm").value.trim(), limit: LIMIT,
  };
  const { attempts } = await get("/api/v1/notifications", filters);
  $("notify-table").tBodies[0].replaceChildren(...attempts.map((attempt) => {
    const row = element("tr", {
      "data-id": String(attempt.id), "data-result": attempt.result, "data-alarm": attempt.alarm_id ?? "",
      class: MARKED.has(attempt.result) ? "notify-failed" : "",
    });
    return fillRow(row, [
      formatTime(attempt.ts), attempt.channel, attempt.recipient, alarmCell(attempt),
      attempt.kind.replaceAll("_", " ") + (attempt.level > 1 ? ` (level ${attempt.level})` : ""),
      String(attempt.attempt), resultCell(attempt.result), attempt.error ?? "",
    ]);
  }));
  $("notify-empty").hidden = attempts.length > 0;
  $("notify-more").hidden = attempts.length < LIMIT;
  const url = new URL(location.href);
  if (filters.alarm_id) url.searchParams.set("alarm", filters.alarm_id); else url.searchParams.delete("alarm");
  history.replaceState(null, "", url);
}

async function sendTest(event) {
  event.preventDefault();
  const status = $("notify-test-status");
  const table = $("notify-test-result");
  const button = $("notify-send");
  button.disabled = true;
  table.hidden = true;
  status.className = "";
  status.textContent = "sending…";
  try {
    const report = await post("/api/v1/notifications/test", { to: $("notify-to").value.trim(), comment: $("notify-comment").value });
    status.textContent = report.deliveries.length === 0
      ? `No channel reaches ${report.to}: nothing was sent.`
      : report.delivered ? `Delivered to ${report.to} on every channel.` : `Not every delivery to ${report.to} worked: see below.`;
    status.className = report.delivered ? "status ok" : "status error";
    table.tBodies[0].replaceChildren(...report.deliveries.map((delivery) => fillRow(
      element("tr", { "data-channel": delivery.channel, "data-delivered": String(delivery.delivered), class: delivery.delivered ? "" : "notify-failed" }), [
        delivery.channel, delivery.recipient,
        resultCell(delivery.delivered ? "delivered" : "failed"),
        delivery.error ?? delivery.detail,
      ])));
    table.hidden = report.deliveries.length === 0;
    await load();
  } catch (error) {
    status.className = "status error";
    status.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

export function start() {
  const alarm = new URLSearchParams(location.search).get("alarm");
  if (alarm) $("notify-alarm").value = alarm;
  for (const id of ["notify-from", "notify-result", "notify-channel", "notify-recipient", "notify-alarm"]) {
    $(id).addEventListener("change", () => load().catch(console.error));
  }
  $("notify-refresh").addEventListener("click", () => load().catch(console.error));
  $("notify-test-form")?.addEventListener("submit", sendTest);
  load().catch(console.error);
  setInterval(() => { if (!document.hidden) load().catch(() => {}); }, 15_000);
}
