// Every console page: the link state, the alarm banner, logout, a session check each minute,
// then the page's own module.

import { del, get, toLogin } from "./api.js";
import { startBanner } from "./banner.js";
import { on, startLive } from "./live.js";

const data = JSON.parse(document.getElementById("console-data").textContent);

// A notification's link (the console's address with ?alarm=ID) opens that alarm.
const linked = new URLSearchParams(location.search).get("alarm");
if (linked && data.page === "overview") location.replace(`/alarms?alarm=${encodeURIComponent(linked)}`);

const link = document.getElementById("link-state");
on("link", (state) => {
  link.dataset.state = state;
  link.textContent = { up: "live", lost: "LINK LOST: values are not current", connecting: "connecting…" }[state];
  document.body.classList.toggle("link-lost", state === "lost");
});

document.getElementById("logout").addEventListener("click", async () => {
  try { await del("/api/v1/auth/session"); } finally { location.assign("/login"); }
});

// An open page keeps its session alive and learns soon when it has ended elsewhere.
setInterval(() => { get("/api/v1/auth/me").catch(() => {}); }, 60_000);

startBanner();
startLive(data.live);

const modules = {
  overview: "./overview.js", alarms: "./alarms.js", notifications: "./notifications.js", trends: "./trends.js", events: "./events.js",
  devices: "./devices.js", audit: "./audit.js", users: "./users.js",
};
// The page's controls work once its module has started: body[data-ready] says so (the
// server-rendered buttons are there before their handlers are).
const ready = () => { document.body.dataset.ready = "true"; };
if (modules[data.page]) {
  import(modules[data.page]).then((module) => module.start(data)).then(ready).catch((error) => {
    if (error.status === 401) toLogin(); else console.error(error);
  });
} else {
  ready();
}
