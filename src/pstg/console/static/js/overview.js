// The station overview: every [data-tag] element shows its tag's live value and quality,
// the wet well bar its level against the set points and alarm limits; alarms colour what they
// are about (ISA-101: grey unless abnormal). Command buttons open the command dialog.

import { on, state } from "./live.js";
import { formatNumber, qualityNote } from "./format.js";
import { installCommandDialog, openCommand } from "./command.js";

const byTag = new Map();

function index() {
  for (const node of document.querySelectorAll("[data-tag]")) {
    const tag = node.dataset.tag;
    if (!byTag.has(tag)) byTag.set(tag, []);
    byTag.get(tag).push(node);
  }
}

function show(node, sample) {
  const kind = node.dataset.kind;
  node.title = `${node.dataset.tag}: ${qualityNote(sample)}`;
  const quality = sample ? sample.quality : "none";
  node.dataset.quality = quality;
  node.dataset.reason = sample?.reason ?? "";
  const value = sample?.value;
  if (kind === "bit") {
    const on = value !== null && value !== undefined && Number(value) !== 0;
    node.dataset.on = sample && value !== null ? String(on) : "unknown";
    const abnormal = node.dataset.abnormal;
    node.classList.toggle("abnormal", abnormal !== undefined && value !== null && value !== undefined &&
      Number(value) === Number(abnormal));
    const text = node.querySelector(".bit-state");
    if (text) text.textContent = quality === "bad" || !sample ? ": BAD" : on ? ": on" : ": off";
    return;
  }
  if (!sample || value === null || value === undefined) {
    node.textContent = sample ? "BAD" : "—";
  } else {
    node.textContent = typeof value === "number" ? formatNumber(value) : String(value);
  }
}

function level() {
  const well = document.querySelector("[data-level-tag]");
  if (!well) return;
  const low = Number(well.dataset.low);
  const high = Number(well.dataset.high);
  const place = (value) => `${Math.max(0, Math.min(100, ((value - low) / (high - low)) * 100))}%`;
  for (const mark of well.querySelectorAll("[data-mark-value]")) mark.style.bottom = place(Number(mark.dataset.markValue));
  const fill = well.querySelector(".well-fill");
  const sample = state.tags[well.dataset.levelTag];
  if (sample && sample.value !== null && sample.value !== undefined) fill.style.height = place(sample.value);
  fill.dataset.quality = sample ? sample.quality : "none";
  for (const mark of well.querySelectorAll("[data-mark-tag]")) {
    const setpoint = state.tags[mark.dataset.markTag];
    mark.hidden = !setpoint || setpoint.value === null;
    if (!mark.hidden) mark.style.bottom = place(setpoint.value);
  }
}

function pumps() {
  for (const symbol of document.querySelectorAll("[data-running-for]")) {
    const sample = state.tags[symbol.dataset.runningFor];
    symbol.dataset.running = sample && sample.value !== null ? String(Number(sample.value) !== 0) : "unknown";
  }
}

function alarms(list) {
  for (const node of document.querySelectorAll("[data-alarm-priority]")) {
    delete node.dataset.alarmPriority;
    delete node.dataset.alarmUnack;
  }
  for (const alarm of list) {
    if (!alarm.tag || !(alarm.active || !alarm.acked) || alarm.state === "shelved" || alarm.state === "out_of_service") continue;
    for (const node of byTag.get(alarm.tag) ?? []) {
      node.dataset.alarmPriority = alarm.priority;
      if (!alarm.acked) node.dataset.alarmUnack = "true";
    }
  }
}

export function start() {
  index();
  installCommandDialog();
  on("tags", (changed, full) => {
    const names = full ? byTag.keys() : Object.keys(changed);
    for (const tag of names) {
      for (const node of byTag.get(tag) ?? []) show(node, state.tags[tag]);
    }
    level();
    pumps();
  });
  on("alarms", alarms);
  for (const button of document.querySelectorAll("[data-command]")) {
    button.addEventListener("click", () => openCommand(button.dataset.command, button));
  }
}
