"""Whether a request says it comes from another site: the guard against login CSRF.

A page elsewhere can post a form to POST /api/v1/auth/session with the attacker's name and
password; the victim's browser would keep the answer's cookie and use the console as the
attacker, whose alarm acknowledgements and commands then carry the attacker's name (and
whatever the victim types is the attacker's to read). SameSite=Strict does not help: the
victim has no cookie yet. The browser tells where a request comes from, and a script cannot
change it: `Sec-Fetch-Site` (Chromium 76, Firefox 90, Safari 16.4) and `Origin` (every
browser, on every POST).

`Origin: null` is not taken as another site: with the API's `Referrer-Policy: no-referrer`
a browser may send it with the console's own same-origin POST. A cross-site page that
arranges a `null` origin (a sandboxed frame) is still refused by `Sec-Fetch-Site`.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def cross_site_reason(headers: Mapping[str, str], scheme: str) -> str | None:
    """Why the request is from another site (for the 403 and the audit), or None when it
    says nothing of the kind. `scheme` is the request's (http or https)."""
    fetch_site = headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site == "cross-site":
        return "Sec-Fetch-Site: cross-site"
    origin = headers.get("origin", "").strip()
    if not origin or origin == "null":
        return None
    host = headers.get("host", "")
    site = _origin_site(origin)
    if site is None or site != _host_site(host, scheme):
        return f"Origin {origin[:200]} is not this site (Host {host[:200]})"
    return None


def _origin_site(origin: str) -> tuple[str, int | None] | None:
    """(host, port) of an Origin header; None when it is not a URL of http(s)."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def _host_site(host: str, scheme: str) -> tuple[str, int | None] | None:
    """(host, port) of a Host header, its port the scheme's default when it names none."""
    try:
        parts = urlsplit(f"//{host}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port or DEFAULT_PORTS.get(scheme)
