"""The console's text meets WCAG AA contrast (4.5:1, WCAG 2.x relative luminance) on its
background, computed from the style sheet itself: every rule that sets both a text colour and
a solid background, and each text colour on the backgrounds it is drawn on (the table below,
by selector, so that a colour changed in the CSS is checked here with its new value). A rule
that sets a text colour and is in neither fails too: a new colour must say where it is seen.

Lines and outlines (alarm limits on the well, a standing alarm's outline) are not text and
are not checked here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

import pytest

AA = 4.5
STYLESHEET = files("pstg.console") / "static" / "css" / "console.css"

ROOT = ":root"
PAIRS: list[tuple[str, str]] = [
    # (the rule giving the text colour, the rule giving the background it is seen on)
    (ROOT, "table.grid"),  # --text on --panel
    (ROOT, ".panel"),
    (ROOT, "table.grid thead th"),
    (ROOT, ".banner"),
    (ROOT, ".skip:focus"),
    (ROOT, "table.grid tr.linked td"),
    (ROOT, "table.grid tr.notify-failed td"),
    (ROOT, ".results"),  # the tag picker's list
    (ROOT, ".chart"),
    ("a", ROOT),
    ("a", ".panel"),
    ("a", "table.grid tr.linked td"),
    ("a", "table.grid tr.notify-failed td"),
    (".muted", ROOT),
    (".muted", ".panel"),
    (".muted", "table.grid tr.notify-failed td"),
    (".error", ROOT),
    (".error", "dialog"),
    (".range", ".panel"),
    ("table.marks th", ".panel"),
    ("td.unit", ".panel"),
    (".value", ".panel"),
    ('.value[data-quality="uncertain"]', ".panel"),
    (".bit", ".panel"),
    ('.bit[data-on="true"]', ".panel"),
    ('.bit[data-quality="bad"]', ".panel"),
    (".interlocks .fails", "dialog"),
    (".status.ok", ROOT),
    (".status.ok", ".panel"),
    (".status.error", ROOT),
    (".status.error", ".panel"),
    (".status.warn", "dialog"),
    (".hint", ROOT),
    (".hint", ".panel"),
    ("main.login .sub", "main.login"),
    ("button", "button"),
    ("button", "button:hover:not(:disabled)"),
    ("button", "input"),
    ("header.top nav a", "header.top"),
    ("header.top nav a", "header.top nav a:hover"),
    ("header.top .who button", "header.top"),
    ("header.top .role", "header.top"),
    ('.link[data-state="up"]', "header.top"),
    ('.link[data-state="connecting"]', "header.top"),
    (".banner .counts", ".banner"),
    (".count.none", ".banner"),
]


@dataclass(frozen=True)
class Rule:
    selectors: tuple[str, ...]
    properties: dict[str, str]


def rules(css: str) -> list[Rule]:
    """The style rules of `css` (those inside @media too), comments removed."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for selector_text, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        selectors = tuple(" ".join(part.split()) for part in selector_text.split(","))
        properties = {}
        for declaration in body.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                properties[name.strip()] = value.replace("!important", "").strip()
        found.append(Rule(selectors, properties))
    return found


RULES = rules(STYLESHEET.read_text(encoding="utf-8"))
VARIABLES = {
    name: value
    for rule in RULES
    if ROOT in rule.selectors
    for name, value in rule.properties.items()
    if name.startswith("--")
}


def resolve(value: str) -> str:
    """`value` with var(--name) replaced from :root."""
    for _ in range(10):
        replaced = re.sub(r"var\((--[\w-]+)\)", lambda m: VARIABLES[m.group(1)], value)
        if replaced == value:
            return value
        value = replaced
    raise AssertionError(f"var() nested too deep in {value!r}")


def rgb(value: str) -> tuple[float, float, float] | None:
    """The colour of a CSS value; None when it is no solid colour (transparent, a gradient)."""
    text = resolve(value).strip().lower()
    if text in ("#fff", "white"):
        return (255, 255, 255)
    if text in ("#000", "black"):
        return (0, 0, 0)
    if match := re.fullmatch(r"#([0-9a-f]{6})", text):
        digits = match.group(1)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    if match := re.fullmatch(r"#([0-9a-f]{3})", text):
        return tuple(int(c * 2, 16) for c in match.group(1))  # type: ignore[return-value]
    if match := re.fullmatch(r"rgb\((\d+),\s*(\d+),\s*(\d+)\)", text):
        return (float(match.group(1)), float(match.group(2)), float(match.group(3)))
    return None


def luminance(colour: tuple[float, float, float]) -> float:
    """WCAG 2.x relative luminance."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple[float, float, float], two: tuple[float, float, float]) -> float:
    lighter, darker = sorted((luminance(one), luminance(two)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def declared(selector: str, *names: str) -> str:
    """The value the last rule naming `selector` gives the first of `names` it sets."""
    found = None
    for rule in RULES:
        if selector in rule.selectors:
            found = next((rule.properties[n] for n in names if n in rule.properties), found)
    assert found is not None, f"no rule for {selector!r} in console.css sets {names}"
    return found


def text_colour(selector: str) -> tuple[float, float, float]:
    value = declared(selector, "color")
    colour = rgb(value)
    assert colour is not None, f"{selector!r}: color {value!r} is not a solid colour"
    return colour


def background(rule: Rule) -> tuple[float, float, float] | None:
    value = rule.properties.get("background-color") or rule.properties.get("background")
    return None if value is None else rgb(value)


def background_of(selector: str) -> tuple[float, float, float]:
    value = declared(selector, "background-color", "background")
    colour = rgb(value)
    assert colour is not None, f"{selector!r}: background {value!r} is not a solid colour"
    return colour


def test_the_reference_values_of_wcag():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert contrast((119, 119, 119), (119, 119, 119)) == pytest.approx(1.0)
    assert rgb("var(--critical)") == (0xB3, 0x00, 0x1B)


SAME_RULE = [
    rule
    for rule in RULES
    if "color" in rule.properties and background(rule) is not None and rgb(rule.properties["color"])
]


@pytest.mark.parametrize("rule", SAME_RULE, ids=lambda rule: ", ".join(rule.selectors))
def test_text_on_the_background_of_its_own_rule(rule: Rule):
    fore = rgb(rule.properties["color"])
    back = background(rule)
    assert fore is not None
    assert back is not None
    ratio = contrast(fore, back)
    assert ratio >= AA, f"{rule.selectors}: {ratio:.2f}:1 is below {AA}:1"


@pytest.mark.parametrize(("text", "on"), PAIRS, ids=[f"{t} on {b}" for t, b in PAIRS])
def test_text_on_the_backgrounds_it_is_seen_on(text: str, on: str):
    ratio = contrast(text_colour(text), background_of(on))
    assert ratio >= AA, f"{text} on {on}: {ratio:.2f}:1 is below {AA}:1"


def test_every_text_colour_is_checked_somewhere():
    checked = {selector for rule in SAME_RULE for selector in rule.selectors}
    checked |= {text for text, _ in PAIRS}
    unchecked = [
        rule.selectors
        for rule in RULES
        if rgb(rule.properties.get("color", "inherit")) is not None
        and not checked & set(rule.selectors)
    ]
    assert not unchecked, f"text colours whose background no test knows: {unchecked}"
