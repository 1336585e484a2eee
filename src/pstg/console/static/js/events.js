// The events journal, newest first.

import { get } from "./api.js";
import { element, fillRow, formatTime } from "./format.js";

const $ = (id) => document.getElementById(id);
const KINDS = ["device_connected", "device_disconnected", "alarm", "command", "service_started", "service_stopped",
  "config_loaded", "spool_spilled", "spool_replayed", "storage_behind", "login_succeeded", "login_failed"];

async function load() {
  const { events } = await get("/api/v1/events", { from: $("event-from").value, kind: $("event-kind").value, limit: 1000 });
  $("event-table").tBodies[0].replaceChildren(...events.map((event) => fillRow(element("tr", { "data-kind": event.kind }), [
    formatTime(event.ts), event.kind.replaceAll("_", " "), event.source ?? "", event.message,
  ])));
}

export function start(data) {
  const engineer = ["engineer", "admin"].includes(data.role);
  $("event-kind").append(...KINDS.filter((kind) => engineer || !kind.startsWith("login"))
    .map((kind) => element("option", { value: kind, text: kind.replaceAll("_", " ") })));
  $("event-from").addEventListener("change", load);
  $("event-kind").addEventListener("change", load);
  $("event-refresh").addEventListener("click", load);
  load();
  setInterval(() => { if (!document.hidden) load().catch(() => {}); }, 15_000);
}
