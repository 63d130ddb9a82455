"""The keyboard focus in a Playwright page: what holds it, and whether its ring can be seen
(WCAG 2.4.7 focus visible, 1.4.11 a ring contrasting 3:1 with the colour around it)."""

from __future__ import annotations

import re

from playwright.sync_api import Page

MINIMUM_RING_CONTRAST = 3.0
MINIMUM_RING_WIDTH_PX = 2.0

# The focused element, its outline, and the colour painted where the outline is drawn: the
# topmost opaque background at the middle of its top edge (the bottom edge at the top of the
# window), the element's own when the outline is drawn inside it.
_FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const width = style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth) || 0;
  const offset = parseFloat(style.outlineOffset) || 0;
  const rect = element.getBoundingClientRect();
  const x = rect.left + rect.width / 2;
  let y = rect.top - offset - width / 2;
  if (y < 0) y = rect.bottom + offset + width / 2;
  const beneath = document.elementsFromPoint(x, y).filter(
    node => offset < 0 || (node !== element && !element.contains(node)));
  let around = "rgb(255, 255, 255)";
  for (const node of beneath.concat([document.documentElement])) {
    const colour = getComputedStyle(node).backgroundColor;
    const clear = colour === "transparent" || /^rgba\\(.*,\\s*0\\)$/.test(colour);
    if (!clear) { around = colour; break; }
  }
  const label = element.labels && element.labels.length ? element.labels[0].innerText : "";
  return {
    tag: element.tagName.toLowerCase(),
    type: element.getAttribute("type") || "",
    name: element.getAttribute("name") || "",
    value: element.value || "",
    text: (element.innerText || "").trim(),
    label: label.trim(),
    html: element.outerHTML.slice(0, 120),
    focus_visible: element.matches(":focus-visible"),
    ring_width: width,
    ring_colour: style.outlineColor,
    around: around,
  };
}"""


def focused(page: Page) -> dict:
    """What holds the keyboard focus, with its ring's width, colour and surrounding colour."""
    return page.evaluate(_FOCUSED)


def _luminance(colour: str) -> float:
    """The relative luminance of a CSS rgb()/rgba() colour (WCAG 2.1's formula)."""
    red, green, blue = (float(part) / 255 for part in re.findall(r"[\d.]+", colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS colours, from 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def ring_problem(element: dict) -> str | None:
    """Why the focused element's ring cannot be seen, or None when it can."""
    if not element["focus_visible"] or element["ring_width"] < MINIMUM_RING_WIDTH_PX:
        return f"no focus ring ({element['ring_width']}px)"
    ratio = contrast_ratio(element["ring_colour"], element["around"])
    if ratio < MINIMUM_RING_CONTRAST:
        return (
            f"ring {element['ring_colour']} on {element['around']} contrasts {ratio:.2f}:1, "
            f"under {MINIMUM_RING_CONTRAST}:1"
        )
    return None
