// The command dialog: the tag's allowed values and interlocks (from /commands/tags), then
// select -> a countdown to the selection's expiry -> operate -> the outcome. Nothing is
// written on one click: a selection writes nothing, and a direct command asks to confirm.

import { ApiError, get, post } from "./api.js";
import { element, formatNumber } from "./format.js";
import { on, state } from "./live.js";

const $ = (id) => document.getElementById(id);
let current = null;  // {info, command, timer, opener}

const OUTCOMES = {
  confirmed: "Confirmed: the read-back follows",
  not_confirmed: "Not confirmed: written, but the read-back did not follow in time",
  device_refused: "Refused by the device: nothing was written",
  failed: "Failed: no answer; whether the value arrived is unknown",
};

function status(text, kind = "") {
  const node = $("command-status");
  node.textContent = text;
  node.className = `status ${kind}`;
}

function shownValue(info, sample) {
  if (!sample) return "no reading";
  if (sample.value === null) return `BAD (${sample.reason})`;
  const choice = info.values?.find((item) => item.value === Number(sample.value));
  if (choice) return `${choice.label} (${sample.value})`;
  if (info.type === "bool") return Number(sample.value) ? "on (1)" : "off (0)";
  return formatNumber(sample.value);
}

function choices(info) {
  const box = $("command-values");
  box.replaceChildren();
  const radio = (value, label, checked) => {
    const id = `command-value-${String(value).replace(/\W/g, "_")}`;
    return element("div", { class: "choice" },
      element("input", { type: "radio", name: "command-value", id, value: String(value), checked }),
      element("label", { for: id, text: label }));
  };
  if (info.pulse) {
    box.append(radio("1", "Pulse (write 1; the device clears it)", true));
  } else if (info.values) {
    info.values.forEach((item, i) => box.append(radio(String(item.value), `${item.label} (${item.value})`, i === 0)));
  } else if (info.type === "bool") {
    box.append(radio("true", "On / start (1)", true), radio("false", "Off / stop (0)", false));
  } else if (info.type === "string") {
    box.append(element("input", { id: "command-number", type: "text", "aria-label": "Text to write" }));
  } else {
    const limits = [info.min !== null ? `min ${info.min}` : "", info.max !== null ? `max ${info.max}` : ""].filter(Boolean).join(", ");
    const input = element("input", { id: "command-number", type: "number", step: "any", "aria-label": `New value ${limits}` });
    if (info.min !== null) input.min = info.min;
    if (info.max !== null) input.max = info.max;
    const sample = state.tags[info.tag] ?? info.latest;
    if (sample && typeof sample.value === "number") input.value = sample.value;
    box.append(input, element("span", { class: "limits", text: `${info.unit} ${limits ? `(${limits})` : ""}` }));
  }
}

function chosenValue(info) {
  const number = $("command-number");
  if (number) {
    if (info.type === "string") return number.value;
    if (number.value === "") throw new Error("enter a value");
    return Number(number.value);
  }
  const picked = document.querySelector('input[name="command-value"]:checked');
  if (!picked) throw new Error("choose a value");
  if (picked.value === "true" || picked.value === "false") return picked.value === "true";
  return Number(picked.value);
}

function interlocks(info) {
  const list = $("command-interlocks");
  if (!info.interlocks.length) {
    list.replaceChildren(element("li", { class: "muted", text: "none" }));
    return;
  }
  list.replaceChildren(...info.interlocks.map((lock) => element("li", {
    class: lock.holds ? "holds" : "fails", "data-holds": String(lock.holds),
  },
  element("span", { class: "mark", "aria-hidden": "true", text: lock.holds ? "✓" : "✗" }),
  element("span", { class: "visually-hidden", text: lock.holds ? "holds: " : "does not hold: " }),
  element("span", { text: lock.holds ? `${lock.tag} ${lock.comparison.replace("_", " ")} ${lock.operand}` : lock.problem }),
  element("span", { class: "why", text: ` — ${lock.message}` }))));
}

function buttons({ select, operate, cancel }) {
  $("command-select").disabled = !select;
  $("command-operate").disabled = !operate;
  $("command-cancel").disabled = !cancel;
}

function stopTimer() {
  if (current?.timer) clearInterval(current.timer);
  if (current) current.timer = null;
  $("command-countdown").textContent = "";
}

function countdown(command) {
  stopTimer();
  // The server's own span (selected -> expires), counted on this machine's clock.
  const span = new Date(command.expires_at) - new Date(command.selected_at);
  const end = performance.now() + span;
  const tick = () => {
    const left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
    $("command-countdown").textContent = `Selected: operate within ${left} s`;
    if (left <= 0) {
      stopTimer();
      $("command-countdown").textContent = "The selection expired: select again";
      buttons({ select: true, operate: false, cancel: false });
      current.command = null;
    }
  };
  tick();
  current.timer = setInterval(tick, 250);
}

function refusal(error) {
  if (error instanceof ApiError) {
    const rule = error.body?.rule ? ` [${error.body.rule}]` : "";
    return `Refused${rule}: ${error.message}`;
  }
  return error.message;
}

async function select() {
  const info = current.info;
  let value;
  try { value = chosenValue(info); } catch (error) { status(error.message, "error"); return; }
  if (info.mode === "direct" && !current.confirming) {
    current.confirming = true;
    status(`Direct command: press Send again to write ${value} to ${info.tag} now.`, "warn");
    $("command-select").textContent = "Send now";
    return;
  }
  buttons({});
  status("Selecting…");
  try {
    const command = await post("/api/v1/commands", { tag: info.tag, value, comment: $("command-comment").value });
    current.command = command;
    if (command.mode === "direct") {
      outcome(command);
      return;
    }
    status(`Selected ${command.label ?? command.value} for ${command.tag}: operate to write it.`, "ok");
    countdown(command);
    buttons({ operate: true, cancel: true });
  } catch (error) {
    status(refusal(error), "error");
    buttons({ select: true });
    refresh();
  }
}

function outcome(command) {
  stopTimer();
  const text = OUTCOMES[command.state] ?? command.state;
  const back = command.read_back !== null && command.read_back !== undefined ? `; read back ${command.read_back}` : "";
  status(`${text}${back}. ${command.detail ?? ""}`, command.state === "confirmed" ? "ok" : "error");
  $("command-countdown").textContent = "";
  $("command-result").textContent = command.state;
  buttons({ select: true });
  current.command = null;
  current.confirming = false;
  $("command-select").textContent = "Select";
}

async function operate() {
  const command = current.command;
  if (!command) return;
  buttons({});
  stopTimer();
  status("Operating: writing and waiting for the read-back…");
  try {
    outcome(await post(`/api/v1/commands/${command.id}/operate`));
  } catch (error) {
    status(refusal(error), "error");
    buttons({ select: true });
    current.command = null;
  }
  refresh();
}

async function cancel() {
  const command = current.command;
  if (!command) return;
  stopTimer();
  try {
    await post(`/api/v1/commands/${command.id}/cancel`);
    status("Selection cancelled: nothing was written.");
  } catch (error) {
    status(refusal(error), "error");
  }
  current.command = null;
  buttons({ select: true });
}

async function refresh() {
  if (!current) return;
  const [info] = await get("/api/v1/commands/tags", { tag: current.info.tag });
  if (!info || !current) return;
  current.info = info;
  interlocks(info);
  $("command-now").textContent = shownValue(info, state.tags[info.tag] ?? info.latest);
}

export async function openCommand(tag, opener) {
  const dialog = $("command-dialog");
  const [info] = await get("/api/v1/commands/tags", { tag });
  if (!info) return;
  current = { info, command: null, timer: null, opener, confirming: false };
  $("command-title").textContent = `Command ${info.description || info.tag}`;
  $("command-tag").textContent = info.tag;
  $("command-description").textContent = info.mode === "direct" ? "(direct: written at once, after a confirmation)" : "(select, then operate)";
  $("command-unit").textContent = info.unit;
  $("command-now").textContent = shownValue(info, state.tags[info.tag] ?? info.latest);
  $("command-comment").value = "";
  $("command-result").textContent = "";
  $("command-select").textContent = info.mode === "direct" ? "Send…" : "Select";
  choices(info);
  interlocks(info);
  status(info.selected_by ? `${info.selected_by} holds a selection of it until ${info.selected_until}` : "");
  buttons({ select: info.allowed });
  if (!info.allowed) status(`Commanding it needs the role ${info.role}.`, "error");
  dialog.showModal();
}

export function installCommandDialog() {
  const dialog = $("command-dialog");
  if (!dialog) return;
  $("command-select").addEventListener("click", select);
  $("command-operate").addEventListener("click", operate);
  $("command-cancel").addEventListener("click", cancel);
  $("command-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", async () => {
    if (current?.command) await cancel();  // a selection left open is given back
    stopTimer();
    current?.opener?.focus();
    current = null;
  });
  on("tags", () => {
    if (current) $("command-now").textContent = shownValue(current.info, state.tags[current.info.tag] ?? current.info.latest);
  });
  setInterval(() => { if (current && !current.command) refresh().catch(() => {}); }, 2000);
}
