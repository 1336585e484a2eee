// The alarm page: the current lists (from the live stream), the journal and the EEMUA 191
// KPIs; acknowledge (with a comment), shelve (duration, reason), unshelve for operators, out of
// service / in service for engineers. The API refuses what the role may not do; the page does
// not offer it.

import { get, post } from "./api.js";
import { element, fillRow, formatTime } from "./format.js";
import { on, state } from "./live.js";

const RANK = { operator: 1, engineer: 2, admin: 3 };
let role = "viewer";
let view = "active";
let pending = null;  // {alarm, action}
const $ = (id) => document.getElementById(id);

const FILTERS = {
  active: (alarm) => alarm.active,
  unacknowledged: (alarm) => !alarm.acked,
  shelved: (alarm) => alarm.state === "shelved",
  all: () => true,
};

const ACTIONS = {
  ack: { label: "Acknowledge", role: "operator", when: (a) => !a.acked && a.state !== "shelved", title: "Acknowledge", comment: "Comment" },
  shelve: { label: "Shelve…", role: "operator", when: (a) => a.state !== "shelved" && a.state !== "out_of_service", title: "Shelve", comment: "Reason" },
  unshelve: { label: "Unshelve", role: "operator", when: (a) => a.state === "shelved", title: "Unshelve", comment: "Comment" },
  "out-of-service": { label: "Out of service…", role: "engineer", when: (a) => a.state !== "out_of_service", title: "Take out of service", comment: "Reason" },
  "in-service": { label: "In service", role: "engineer", when: (a) => a.state === "out_of_service", title: "Return to service", comment: "Comment" },
};

const may = (needed) => (RANK[role] ?? 0) >= RANK[needed];

async function currentAlarms() {
  // The stream carries the standing ones; "all" (and a fresh start) come from the API.
  if (view === "all" || state.link !== "up") return (await get("/api/v1/alarms", { state: "all" })).alarms;
  return state.alarms;
}

function header(cells) {
  $("alarm-table").tHead.replaceChildren(element("tr", {}, ...cells.map((text) => element("th", { scope: "col", text }))));
}

async function render() {
  const table = $("alarm-table");
  const body = table.tBodies[0];
  $("history-range").hidden = view !== "history";
  $("kpi-range").hidden = view !== "kpi";
  $("kpi-view").hidden = view !== "kpi";
  table.hidden = view === "kpi";
  if (view === "kpi") return renderKpi();
  if (view === "history") return renderHistory();
  const alarms = (await currentAlarms()).filter(FILTERS[view])
    .sort((a, b) => Number(a.acked) - Number(b.acked) || (b.since ?? "").localeCompare(a.since ?? ""));
  header(["Priority", "Alarm", "State", "Since", "Value", "Last action", ...(may("operator") ? ["Actions"] : [])]);
  body.replaceChildren(...alarms.map((alarm) => {
    const row = element("tr", { class: alarm.acked ? "" : "unacked", "data-alarm": alarm.id });
    const cells = [
      element("span", { class: `prio prio-${alarm.priority}`, text: alarm.priority }),
      element("span", {}, element("strong", { text: alarm.message || alarm.id }), element("br"), element("code", { text: alarm.id })),
      alarm.state.replaceAll("_", " ") + (alarm.shelved_until ? ` until ${formatTime(alarm.shelved_until)}` : ""),
      formatTime(alarm.since),
      alarm.value === null || alarm.value === undefined ? "" : String(alarm.value),
      [alarm.user, alarm.comment].filter(Boolean).join(": "),
    ];
    if (may("operator")) {
      const buttons = Object.entries(ACTIONS).filter(([, action]) => may(action.role) && action.when(alarm))
        .map(([name, action]) => {
          const button = element("button", { type: "button", "data-action": name, text: action.label });
          button.addEventListener("click", () => openAction(alarm, name, button));
          return button;
        });
      const cell = element("span", {}, ...buttons);
      cells.push(cell);
    }
    fillRow(row, cells);
    if (may("operator")) row.lastChild.className = "actions";
    return row;
  }));
  $("alarm-empty").hidden = alarms.length > 0;
  const linked = new URLSearchParams(location.search).get("alarm");
  const row = linked && [...body.rows].find((item) => item.dataset.alarm === linked);
  if (row) { row.classList.add("linked"); row.scrollIntoView({ block: "center" }); }
}

async function renderHistory() {
  const { journal } = await get("/api/v1/alarms", { state: "history", from: $("history-from").value, to: "now", limit: 1000 });
  header(["Time", "Priority", "Alarm", "From", "To", "Value", "User", "Comment", "Reason"]);
  $("alarm-table").tBodies[0].replaceChildren(...journal.map((row) => fillRow(element("tr"), [
    formatTime(row.ts), [row.priority, `prio-cell`], row.alarm_id, row.previous.replaceAll("_", " "), row.state.replaceAll("_", " "),
    row.value === null ? "" : String(row.value), row.user ?? "", row.comment ?? "", row.reason,
  ])));
  $("alarm-empty").hidden = journal.length > 0;
}

async function renderKpi() {
  const kpi = await get("/api/v1/alarms/kpi", { from: $("kpi-from").value });
  const box = (label, value, note) => element("div", {}, element("span", { text: label }), element("strong", { text: String(value) }), note ? element("span", { class: "muted", text: note }) : null);
  $("kpi-view").replaceChildren(
    element("div", { class: "kpis" },
      box("Activations", kpi.activations),
      box("Per 10 minutes, average", kpi.per_10min_avg.toFixed(2), "EEMUA 191: ≤ 1 is manageable"),
      box("Per 10 minutes, most", kpi.per_10min_max, "more than 10: a flood"),
      box("Time in flood", `${kpi.flood_percent.toFixed(1)} %`, "target < 1 %"),
      box("Standing", kpi.standing.length, kpi.standing.join(", ")),
      box("Stale", kpi.stale.length, kpi.stale.join(", ")),
      box("Chattering", kpi.chattering.length, kpi.chattering.join(", "))),
    element("h2", { text: "Most frequent" }),
    element("table", { class: "grid" },
      element("thead", {}, element("tr", {}, element("th", { scope: "col", text: "Alarm" }), element("th", { scope: "col", text: "Activations" }))),
      element("tbody", {}, ...kpi.top.map(([id, n]) => fillRow(element("tr"), [id, String(n)])))),
  );
  $("alarm-empty").hidden = true;
}

function openAction(alarm, name, opener) {
  const action = ACTIONS[name];
  pending = { alarm, name, opener };
  $("alarm-dialog-title").textContent = `${action.title}: ${alarm.message || alarm.id}`;
  $("alarm-dialog-what").textContent = `${alarm.id} (${alarm.priority}, ${alarm.state.replaceAll("_", " ")})`;
  $("alarm-duration-row").hidden = name !== "shelve";
  $("alarm-comment-label").textContent = action.comment;
  $("alarm-comment").value = "";
  $("alarm-dialog-error").textContent = "";
  $("alarm-dialog").showModal();
  $("alarm-comment").focus();
}

async function submitAction() {
  if (!pending) return;
  const { alarm, name } = pending;
  const body = { comment: $("alarm-comment").value };
  if (name === "shelve") body.duration = $("alarm-duration").value;
  try {
    await post(`/api/v1/alarms/${encodeURIComponent(alarm.id)}/${name}`, body);
    $("alarm-dialog").close();
    await render();
  } catch (error) {
    $("alarm-dialog-error").textContent = error.message;
  }
}

export function start(data) {
  role = data.role;
  if (new URLSearchParams(location.search).get("alarm")) {
    view = "all";  // a linked alarm may have cleared since the message went out
    for (const tab of document.querySelectorAll("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.view === "all"));
  }
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => {
      view = tab.dataset.view;
      for (const other of document.querySelectorAll("[role=tab]")) other.setAttribute("aria-selected", String(other === tab));
      render().catch(console.error);
    });
  }
  $("history-from").addEventListener("change", () => render().catch(console.error));
  $("kpi-from").addEventListener("change", () => render().catch(console.error));
  $("alarm-dialog-ok").addEventListener("click", submitAction);
  $("alarm-comment").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); submitAction(); }
  });
  $("alarm-dialog-close").addEventListener("click", () => $("alarm-dialog").close());
  $("alarm-dialog").addEventListener("close", () => { pending?.opener?.focus(); pending = null; });
  on("alarms", () => { if (!["history", "kpi"].includes(view) && !$("alarm-dialog").open) render().catch(console.error); });
  render().catch(console.error);
}
