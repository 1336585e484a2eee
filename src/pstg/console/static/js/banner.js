// The alarm banner on every page: counts by priority and the newest unacknowledged alarms.

import { on } from "./live.js";
import { element, formatTime, PRIORITIES } from "./format.js";

const SHOWN = 3;

export function startBanner() {
  const counts = document.getElementById("banner-counts");
  const list = document.getElementById("banner-list");
  if (!counts || !list) return;
  on("alarms", (alarms) => {
    const standing = alarms.filter((alarm) => alarm.state !== "shelved" && alarm.state !== "out_of_service");
    const parts = [];
    for (const priority of PRIORITIES) {
      const n = standing.filter((alarm) => alarm.priority === priority && (alarm.active || !alarm.acked)).length;
      if (n) parts.push(element("span", { class: `count prio-${priority}`, text: `${n} ${priority}` }));
    }
    const unacked = standing.filter((alarm) => !alarm.acked);
    counts.replaceChildren(
      element("span", { class: "label", text: "Alarms" }),
      ...(parts.length ? parts : [element("span", { class: "count none", text: "none standing" })]),
      element("span", { class: "count unack", text: `${unacked.length} unacknowledged` }),
    );
    const newest = unacked.sort((a, b) => (b.since ?? "").localeCompare(a.since ?? "")).slice(0, SHOWN);
    list.replaceChildren(...newest.map((alarm) => element(
      "li", { class: `prio-${alarm.priority}`, "data-alarm": alarm.id },
      element("span", { class: "prio", text: alarm.priority }),
      element("span", { class: "msg", text: alarm.message || alarm.id }),
      element("time", { text: formatTime(alarm.since) }),
    )));
    document.body.classList.toggle("has-unack", unacked.length > 0);
  });
}
