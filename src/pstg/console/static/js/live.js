// The live state of the station, pushed by the server: GET /api/v1/stream (Server-Sent
// Events: a snapshot, then changed values, alarms and devices as they change). When the link
// drops the page says so; EventSource reconnects by itself (the server's `retry`) and the
// server starts again with a snapshot, so nothing missed stays wrong. A gateway without the
// stream is polled instead (/tags, /alarms, /devices each second).

import { get } from "./api.js";

const listeners = { tags: [], alarms: [], devices: [], link: [] };
export const state = { tags: {}, alarms: [], devices: {}, link: "connecting", seq: 0 };

export function on(kind, listener) {
  listeners[kind].push(listener);
  // Late subscribers get what is known already.
  if (kind === "tags" && Object.keys(state.tags).length) listener(state.tags, true);
  if (kind === "alarms" && state.link === "up") listener(state.alarms);
  if (kind === "devices" && Object.keys(state.devices).length) listener(state.devices);
  if (kind === "link") listener(state.link);
}

function emit(kind, ...values) {
  for (const listener of listeners[kind]) {
    try { listener(...values); } catch (error) { console.warn(error); }
  }
}

function setLink(link) {
  if (state.link === link) return;
  state.link = link;
  emit("link", link);
}

let lastAlarms = null;
let lastDevices = null;

function snapshot(data) {
  state.seq = data.seq;
  state.tags = data.tags ?? {};
  state.alarms = data.alarms ?? [];
  state.devices = data.devices ?? {};
  const wasUp = state.link === "up";
  setLink("up");
  emit("tags", state.tags, true);
  // Polled snapshots come every second: tell only what changed (or all, after a loss).
  const alarms = JSON.stringify(state.alarms);
  const devices = JSON.stringify(state.devices);
  if (!wasUp || alarms !== lastAlarms) emit("alarms", state.alarms);
  if (!wasUp || devices !== lastDevices) emit("devices", state.devices);
  lastAlarms = alarms;
  lastDevices = devices;
}

function values(data) {
  state.seq = data.seq;
  Object.assign(state.tags, data.tags);
  emit("tags", data.tags, false);
}

export function startLive(mode, { tags } = {}) {
  if (mode === "stream") stream(tags);
  else poll();
}

function stream(tags) {
  const url = new URL("/api/v1/stream", location.origin);
  for (const tag of tags ?? []) url.searchParams.append("tag", tag);
  const source = new EventSource(url);
  source.addEventListener("snapshot", (event) => snapshot(JSON.parse(event.data)));
  source.addEventListener("values", (event) => values(JSON.parse(event.data)));
  source.addEventListener("alarms", (event) => {
    state.alarms = JSON.parse(event.data);
    emit("alarms", state.alarms);
  });
  source.addEventListener("devices", (event) => {
    state.devices = JSON.parse(event.data);
    emit("devices", state.devices);
  });
  source.addEventListener("error", () => {
    // CONNECTING: it retries by itself; CLOSED: refused (e.g. the session ended).
    setLink("lost");
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      setTimeout(() => stream(tags), 2000);
      get("/api/v1/auth/me").catch(() => {});  // a 401 leads to the login page
    }
  });
}

const POLL_MS = 1000;

async function poll() {
  for (;;) {
    try {
      const [tags, alarms, devices] = await Promise.all([
        get("/api/v1/tags"),
        get("/api/v1/alarms", { state: "all" }),
        get("/api/v1/devices"),
      ]);
      const current = {};
      for (const tag of tags) if (tag.latest) current[tag.name] = tag.latest;
      snapshot({
        seq: state.seq + 1,
        tags: current,
        alarms: alarms.alarms.filter((a) => a.active || !a.acked || a.state === "shelved"),
        devices: Object.fromEntries(devices.map((d) => [d.device_id, { state: d.status, last_error: d.last_error }])),
      });
    } catch (error) {
      if (error.status === 401) return;
      setLink("lost");
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
