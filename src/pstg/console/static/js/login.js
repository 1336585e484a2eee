// The login form: POST /api/v1/auth/session (the cookie is set by the answer), then on to
// the page asked for (a path of this site only).

const form = document.getElementById("login");
const error = document.getElementById("login-error");

function nextPage() {
  const target = new URLSearchParams(location.search).get("next") ?? "/";
  return target.startsWith("/") && !target.startsWith("//") && !target.includes("\\") ? target : "/";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const answer = await fetch("/api/v1/auth/session", {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    });
    if (answer.ok) {
      location.assign(nextPage());
      return;
    }
    const body = await answer.json().catch(() => ({}));
    error.textContent = body.detail ?? `login failed (${answer.status})`;
  } catch {
    error.textContent = "the gateway does not answer";
  } finally {
    button.disabled = false;
  }
});
