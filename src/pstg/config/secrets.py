"""Which config values are secrets, for everything that shows a config (the API's /config).

A key is secret when it names a password, key, token or the like, in any spelling:
`password`, `Passwd`, `pwd`, `pin`, `auth`, `authToken`, `api_key`, `apikey`, `x-api-key`,
`client_secret`, `credentials`, `private_key`, `passphrase` ... Matching is by substring for
the unambiguous stems and by whole word for the short ones (`pin`, `pw`), so `ping_interval`
and `spindle` stay readable. Over-hiding a harmless value costs a reader a look at the file;
showing a secret cannot be undone, so the stems are generous.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***"

_SECRET_STEMS = re.compile(
    r"pass|pwd|secret|token|key|credential|auth|private|cookie", re.IGNORECASE
)
_SECRET_WORDS = frozenset({"pin", "pincode", "pw", "otp", "sas", "psk"})
_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/@:\s]*:)[^/@\s]*(?=@)")


def is_secret_key(key: str) -> bool:
    """Does a key (an option name, a query parameter) name a secret?"""
    if _SECRET_STEMS.search(key):
        return True
    return any(word.lower() in _SECRET_WORDS for word in _WORD_BREAK.split(key) if word)


def redact_url_passwords(text: str) -> str:
    """`scheme://user:password@host` with the password as `***`, anywhere in `text`."""
    return _URL_PASSWORD.sub(lambda match: f"{match['head']}{REDACTED}", text)


def redacted(value: Any) -> Any:
    """`value` (options: mappings, lists, scalars) with every secret-named entry as `***`, at
    any depth, and passwords in URLs hidden."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_key(str(key)) else redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    if isinstance(value, str):
        return redact_url_passwords(value)
    return value
