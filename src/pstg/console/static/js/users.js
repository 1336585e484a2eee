// Users and API tokens (admins): list, add, change role, enable/disable; tokens made (shown
// once) and revoked.

import { del, get, patch, post } from "./api.js";
import { element, fillRow, formatTime } from "./format.js";

const $ = (id) => document.getElementById(id);
const ROLES = ["viewer", "operator", "engineer", "admin"];

function fail(error) {
  $("admin-error").textContent = error.message;
}

async function loadUsers() {
  const users = await get("/api/v1/users");
  $("user-table").tBodies[0].replaceChildren(...users.map((user) => {
    const role = element("select", { "aria-label": `Role of ${user.name}` },
      ...ROLES.map((name) => element("option", { value: name, text: name, selected: name === user.role })));
    role.addEventListener("change", () => change(user.name, { role: role.value }));
    const toggle = element("button", { type: "button", text: user.enabled ? "Disable" : "Enable" });
    toggle.addEventListener("click", () => change(user.name, { enabled: !user.enabled }));
    return fillRow(element("tr", { "data-user": user.name }), [
      element("strong", { text: user.name }), role, user.enabled ? "yes" : "no",
      formatTime(user.last_login_at), String(user.failed_logins), toggle,
    ]);
  }));
}

async function change(name, body) {
  $("admin-error").textContent = "";
  try { await patch(`/api/v1/users/${encodeURIComponent(name)}`, body); } catch (error) { fail(error); }
  await loadUsers();
}

async function loadTokens() {
  const tokens = await get("/api/v1/tokens");
  $("token-table").tBodies[0].replaceChildren(...tokens.map((token) => {
    const revoke = element("button", { type: "button", text: "Revoke", disabled: token.status !== "active" });
    revoke.addEventListener("click", async () => {
      try { await del(`/api/v1/tokens/${token.id}`); } catch (error) { fail(error); }
      await loadTokens();
    });
    return fillRow(element("tr", { "data-token": String(token.id) }), [
      String(token.id), token.username, token.name, token.role ?? "(the user's)", token.status,
      token.expires_at ? formatTime(token.expires_at) : "never", formatTime(token.last_used_at), revoke,
    ]);
  }));
}

export function start() {
  $("user-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("admin-error").textContent = "";
    try {
      await post("/api/v1/users", { name: $("new-user").value, password: $("new-password").value, role: $("new-role").value });
      event.target.reset();
    } catch (error) { fail(error); }
    await loadUsers();
  });
  $("token-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("admin-error").textContent = "";
    try {
      const made = await post("/api/v1/tokens", { username: $("token-user").value, name: $("token-name").value, role: $("token-role").value || null });
      const shown = $("token-new");
      shown.hidden = false;
      shown.replaceChildren("Token ", element("strong", { text: `${made.id}` }), " — copy it now, it is shown only once: ", element("code", { text: made.token }));
      event.target.reset();
    } catch (error) { fail(error); }
    await loadTokens();
  });
  loadUsers();
  loadTokens();
}
