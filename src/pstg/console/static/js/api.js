// Calls to the PSTG API with the session cookie; changes carry the session's CSRF token.
// A 401 means the session ended (logout elsewhere, idle, time limit): back to the login page.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

export function toLogin() {
  const here = location.pathname + location.search;
  location.assign(here === "/" ? "/login" : `/login?next=${encodeURIComponent(here)}`);
}

export async function api(method, path, { body, params } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(params ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(key, item);
    }
  }
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  if (answer.status === 401) {
    toLogin();
    throw new ApiError(401, "the session has ended: log in again");
  }
  const type = answer.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await answer.json() : await answer.text();
  if (!answer.ok) {
    const detail = typeof data === "object" && data && data.detail ? data.detail : String(data);
    throw new ApiError(answer.status, typeof detail === "string" ? detail : JSON.stringify(detail), data);
  }
  return data;
}

export const get = (path, params) => api("GET", path, { params });
export const post = (path, body) => api("POST", path, { body: body ?? {} });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path) => api("DELETE", path);
