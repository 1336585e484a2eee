"""Issue 10, item 25: the docs say what the code does today.

Promises of "later releases" outlive the release that kept them; these checks catch the
phrases that drifted once, and every kind of event missing from the API's list of them.
"""

import re
from pathlib import Path

import pytest

from pstg.model import EventKind

DOCS = Path(__file__).parents[1] / "docs"
STALE = ("in later releases", "later stored", "will show", "for now logs", "when those endpoints")


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_no_page_promises_what_is_already_there(page: Path) -> None:
    text = page.read_text().lower()
    assert [phrase for phrase in STALE if phrase in text] == []


def test_every_event_kind_is_listed_in_the_api_docs() -> None:
    listed = set(re.findall(r"`([a-z_]+)`", (DOCS / "api.md").read_text()))
    assert {kind.value for kind in EventKind} - listed == set()


def test_alarms_doc_names_no_config_key_that_does_not_exist() -> None:
    assert "max_shelve" not in (DOCS / "alarms.md").read_text()
