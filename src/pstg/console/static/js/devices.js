// Devices: connection state and poll statistics, refreshed every few seconds (and at once
// when the live stream says a device changed state).

import { get } from "./api.js";
import { element, fillRow, formatNumber, formatTime } from "./format.js";
import { on } from "./live.js";

async function load() {
  const devices = await get("/api/v1/devices");
  document.querySelector("#device-table tbody").replaceChildren(...devices.map((d) => {
    const errors = Object.entries(d.errors ?? {}).map(([kind, n]) => `${kind.replaceAll("_", " ")}: ${n}`).join(", ");
    const status = element("span", { class: `device-${d.status}`, text: d.enabled ? d.status : "disabled" });
    const row = fillRow(element("tr", { "data-device": d.device_id, "data-status": d.status }), [
      element("strong", { text: d.device_id }),
      `${d.driver} ${d.address} unit ${d.unit_id}`,
      status,
      d.last_rtt_ms === null ? "" : `${formatNumber(d.last_rtt_ms)} ms`,
      d.last_cycle_ms === null ? "" : `${formatNumber(d.last_cycle_ms)} ms`,
      `${d.requests} sent, ${d.responses} answered`,
      errors || "none",
      d.last_error ? `${d.last_error} (${d.last_error_kind}, ${formatTime(d.last_error_at)})` : "",
      String(d.consecutive_failures),
    ]);
    return row;
  }));
}

export function start() {
  on("devices", () => load().catch(() => {}));
  load();
  setInterval(() => { if (!document.hidden) load().catch(() => {}); }, 5000);
}
