// The alarm page: the current lists (from the live stream), the journal and the EEMUA 191
// KPIs; acknowledge (with a comment), shelve (duration, reason), unshelve for operators, out of
// service / in service for engineers; bulk acknowledge (a selection, or every alarm waiting)
// for operators. The API refuses what the role may not do; the page does not offer it.

import { get, post } from "./api.js";
import { element, fillRow, formatTime } from "./format.js";
import { on, state } from "./live.js";

const RANK = { operator: 1, engineer: 2, admin: 3 };
let role = "viewer";
let view = "active";
let pending = null;  // {alarm, action}
let bulk = null;  // {ids} or {all: true}, while the bulk dialog is open
const selected = new Set();  // alarm ids ticked for a bulk acknowledgement
let shown = [];  // the alarms of the current list, as last drawn
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
const ackable = (alarm) => ACTIONS.ack.when(alarm);

async function currentAlarms() {
  // The stream carries the standing ones; "all" (and a fresh start) come from the API.
  if (view === "all" || state.link !== "up") return (await get("/api/v1/alarms", { state: "all" })).alarms;
  return state.alarms;
}

function header(cells) {
  $("alarm-table").tHead.replaceChildren(element("tr", {}, ...cells.map((text) => element("th", { scope: "col", text }))));
}

let generation = 0;  // renders overlap (stream, tabs, actions): only the newest one draws

async function render() {
  const mine = ++generation;
  const current = () => mine === generation;
  const table = $("alarm-table");
  const body = table.tBodies[0];
  $("history-range").hidden = view !== "history";
  $("kpi-range").hidden = view !== "kpi";
  $("kpi-view").hidden = view !== "kpi";
  table.hidden = view === "kpi";
  updateBulkBar();
  if (view === "kpi") return renderKpi(current);
  if (view === "history") return renderHistory(current);
  const shownView = view;
  const fetched = await currentAlarms();
  if (!current()) return;
  const alarms = fetched.filter(FILTERS[shownView])
    .sort((a, b) => Number(a.acked) - Number(b.acked) || (b.since ?? "").localeCompare(a.since ?? ""));
  const operator = may("operator");
  shown = alarms;
  // A ticked alarm that was acknowledged meanwhile (or left this list) is no longer selected.
  const waiting = new Set(alarms.filter(ackable).map((alarm) => alarm.id));
  for (const id of [...selected]) if (!waiting.has(id)) selected.delete(id);
  const focus = focusedControl();
  header(["Priority", "Alarm", "State", "Since", "Value", "Last action", ...(operator ? ["Actions"] : [])]);
  if (operator) table.tHead.rows[0].prepend(selectAllCell(waiting));
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
      const journal = element("a", {
        href: `/notifications?alarm=${encodeURIComponent(alarm.id)}`, class: "journal-link", text: "Notifications",
      });
      const cell = element("span", {}, ...buttons, journal);
      cells.push(cell);
      cells.unshift(selectBox(alarm));
    }
    fillRow(row, cells);
    if (operator) {
      row.lastChild.className = "actions";
      row.firstChild.className = "select";
    }
    return row;
  }));
  restoreFocus(focus);
  updateBulkBar();
  $("alarm-empty").hidden = alarms.length > 0;
  const linked = new URLSearchParams(location.search).get("alarm");
  const row = linked && [...body.rows].find((item) => item.dataset.alarm === linked);
  if (row) { row.classList.add("linked"); row.scrollIntoView({ block: "center" }); }
}

function selectBox(alarm) {
  if (!ackable(alarm)) return "";
  const box = element("input", {
    type: "checkbox", class: "pick", "data-select": alarm.id, "aria-label": `Select ${alarm.message || alarm.id}`,
  });
  box.checked = selected.has(alarm.id);
  box.addEventListener("change", () => {
    if (box.checked) selected.add(alarm.id); else selected.delete(alarm.id);
    updateBulkBar();
  });
  return box;
}

function selectAllCell(waiting) {
  const box = element("input", { type: "checkbox", id: "select-all", "aria-label": "Select all shown that wait for an acknowledgement" });
  box.disabled = waiting.size === 0;
  box.checked = waiting.size > 0 && [...waiting].every((id) => selected.has(id));
  box.addEventListener("change", () => {
    for (const id of waiting) { if (box.checked) selected.add(id); else selected.delete(id); }
    for (const pick of document.querySelectorAll("#alarm-table input[data-select]")) pick.checked = box.checked;
    updateBulkBar();
  });
  return element("th", { scope: "col", class: "select" }, box);
}

function updateBulkBar() {
  const bar = $("bulk-bar");
  bar.hidden = !may("operator") || ["history", "kpi"].includes(view);
  $("bulk-selected").disabled = selected.size === 0;
  $("bulk-selected").textContent = selected.size ? `Acknowledge selected (${selected.size})` : "Acknowledge selected";
  $("bulk-count").textContent = selected.size ? `${selected.size} selected` : "tick alarms to acknowledge several at once";
  const all = $("select-all");
  if (all) {
    const waiting = shown.filter(ackable).map((alarm) => alarm.id);
    all.checked = waiting.length > 0 && waiting.every((id) => selected.has(id));
  }
}

// The stream redraws the table as alarms change: a keyboard user keeps their place.
function focusedControl() {
  const active = document.activeElement;
  const row = active?.closest?.("#alarm-table tbody tr");
  if (!row) return null;
  return { alarm: row.dataset.alarm, select: active.dataset.select !== undefined, action: active.dataset.action };
}

function restoreFocus(focus) {
  if (!focus) return;
  const row = [...$("alarm-table").tBodies[0].rows].find((item) => item.dataset.alarm === focus.alarm);
  if (!row) return;
  const target = focus.select ? row.querySelector("input[data-select]")
    : focus.action ? row.querySelector(`button[data-action="${focus.action}"]`) : null;
  (target ?? row.querySelector("input, button, a"))?.focus();
}

async function openBulk(all, opener) {
  const dialog = $("bulk-dialog");
  $("bulk-comment").value = "";
  $("bulk-dialog-error").textContent = "";
  const names = new Map(shown.map((alarm) => [alarm.id, alarm.message || alarm.id]));
  let ids = [];
  if (all) {
    // Ask the gateway rather than trust this list: the tab may show only some of them.
    const { alarms } = await get("/api/v1/alarms", { state: "unacknowledged" });
    ids = alarms.filter(ackable).map((alarm) => alarm.id);
    for (const alarm of alarms) names.set(alarm.id, alarm.message || alarm.id);
    $("bulk-dialog-title").textContent = "Acknowledge all unacknowledged alarms";
    $("bulk-dialog-what").textContent = ids.length
      ? `This acknowledges every alarm of the station waiting for an acknowledgement: ${ids.length} now, and any that arrive before you confirm.`
      : "No alarm waits for an acknowledgement now.";
    $("bulk-dialog-ok").textContent = `Yes, acknowledge all (${ids.length})`;
  } else {
    ids = [...selected];
    $("bulk-dialog-title").textContent = `Acknowledge ${ids.length} selected alarm${ids.length === 1 ? "" : "s"}`;
    $("bulk-dialog-what").textContent = "Each is acknowledged with this comment, journaled and audited on its own.";
    $("bulk-dialog-ok").textContent = `Acknowledge ${ids.length}`;
  }
  $("bulk-dialog-ok").disabled = ids.length === 0;
  $("bulk-dialog-list").replaceChildren(...ids.map((id) => element("li", { "data-alarm": id, text: `${names.get(id) ?? id} (${id})` })));
  bulk = { all, ids, opener };
  dialog.showModal();
  $("bulk-comment").focus();
}

async function submitBulk() {
  if (!bulk) return;
  const body = { comment: $("bulk-comment").value };
  if (bulk.all) body.all = true; else body.ids = bulk.ids;
  $("bulk-dialog-ok").disabled = true;
  try {
    const answer = await post("/api/v1/alarms/ack", body);
    for (const done of answer.acknowledged) selected.delete(done.alarm_id);
    showBulkResult(answer);
    $("bulk-dialog").close();
    await render();
  } catch (error) {
    $("bulk-dialog-error").textContent = error.message;
    $("bulk-dialog-ok").disabled = false;
  }
}

function showBulkResult({ acknowledged, refused }) {
  const result = $("bulk-result");
  const parts = [element("p", {
    "data-acknowledged": String(acknowledged.length),
    text: acknowledged.length
      ? `Acknowledged ${acknowledged.length}: ${acknowledged.map((done) => done.alarm_id).join(", ")}.`
      : "None acknowledged.",
  })];
  if (refused.length) {
    parts.push(element("p", { class: "error", text: `Refused ${refused.length}:` }),
      element("ul", { id: "bulk-refused" }, ...refused.map((item) => element("li", {
        "data-alarm": item.id, text: `${item.id}: ${item.reason}`,
      }))));
  }
  result.replaceChildren(...parts);
  result.hidden = false;
}

async function renderHistory(current) {
  const { journal } = await get("/api/v1/alarms", { state: "history", from: $("history-from").value, to: "now", limit: 1000 });
  if (!current()) return;
  header(["Time", "Priority", "Alarm", "From", "To", "Value", "User", "Comment", "Reason"]);
  $("alarm-table").tBodies[0].replaceChildren(...journal.map((row) => fillRow(element("tr"), [
    formatTime(row.ts), [row.priority, `prio-cell`], row.alarm_id, row.previous.replaceAll("_", " "), row.state.replaceAll("_", " "),
    row.value === null ? "" : String(row.value), row.user ?? "", row.comment ?? "", row.reason,
  ])));
  $("alarm-empty").hidden = journal.length > 0;
}

async function renderKpi(current) {
  const kpi = await get("/api/v1/alarms/kpi", { from: $("kpi-from").value });
  if (!current()) return;
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
  $("bulk-selected").addEventListener("click", () => openBulk(false, $("bulk-selected")).catch(console.error));
  $("bulk-all").addEventListener("click", () => openBulk(true, $("bulk-all")).catch(console.error));
  $("bulk-dialog-ok").addEventListener("click", submitBulk);
  $("bulk-comment").addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); if (!$("bulk-dialog-ok").disabled) submitBulk(); }
  });
  $("bulk-dialog-close").addEventListener("click", () => $("bulk-dialog").close());
  $("bulk-dialog").addEventListener("close", () => { bulk?.opener?.focus(); bulk = null; });
  $("alarm-dialog").addEventListener("close", () => { pending?.opener?.focus(); pending = null; });
  on("alarms", () => {
    if (!["history", "kpi"].includes(view) && !$("alarm-dialog").open && !$("bulk-dialog").open) render().catch(console.error);
  });
  render().catch(console.error);
}
