"""Bar charts drawn on the server as accessible SVG: no JavaScript, nothing from a CDN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import render_template
from markupsafe import Markup

CHART_TEMPLATE = "reports/charts/bar_chart.svg"
TONES = frozenset({"ok", "warn", "bad"})

# Geometry in SVG user units; the chart scales to its container through its viewBox.
CHAR_WIDTH = 7.5  # a generous average width of a 13px sans-serif character
PADDING = 8
# Horizontal charts: each category's name on its own line above its bar, so long names
# (scope areas, partner kinds) need no guessed label column and stay readable on a phone.
CHART_WIDTH = 360
LABEL_LINE = 18
BAR_THICKNESS = 16
ROW_GAP = 12
ROW_HEIGHT = LABEL_LINE + BAR_THICKNESS + ROW_GAP
VALUE_SPACE = 48
MAX_LABEL_CHARS = int(CHART_WIDTH / CHAR_WIDTH)
# Vertical charts: columns along a baseline, for years and other short labels.
COLUMN_WIDTH = 56
COLUMN_THICKNESS = 34
PLOT_HEIGHT = 180
AXIS_SPACE = 28
VALUE_HEIGHT = 20


@dataclass(frozen=True)
class Bar:
    """One bar: what it counts, how many, and optionally a tone (ok, warn, bad)."""

    label: str
    value: int
    tone: str | None = None


@dataclass(frozen=True)
class PlacedBar:
    """A bar with its rectangle and the positions of its two texts."""

    label: str
    short_label: str
    value: int
    tone: str | None
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float


@dataclass(frozen=True)
class ChartLayout:
    """Everything the SVG template draws."""

    chart_id: str
    title: str
    description: str
    orientation: str
    width: float
    height: float
    baseline: float
    bars: list[PlacedBar]


def shorten(label: str, limit: int) -> str:
    """A label cut to fit, with an ellipsis (the full text stays in the bar's tooltip)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _tone(tone: str | None) -> str | None:
    """Only known tones reach the class attribute."""
    return tone if tone in TONES else None


def _scale(bars: Sequence[Bar]) -> int:
    """The largest value (at least 1, so an all-zero chart draws flat bars)."""
    return max([1, *(bar.value for bar in bars)])


def horizontal_layout(
    chart_id: str, title: str, description: str, bars: Sequence[Bar]
) -> ChartLayout:
    """Bars from left to right, each under its category's name: for long category names."""
    largest = _scale(bars)
    bar_area = CHART_WIDTH - VALUE_SPACE
    placed = []
    for index, bar in enumerate(bars):
        top = PADDING + index * ROW_HEIGHT
        length = bar_area * bar.value / largest
        bar_y = top + LABEL_LINE
        placed.append(
            PlacedBar(
                label=bar.label,
                short_label=shorten(bar.label, MAX_LABEL_CHARS),
                value=bar.value,
                tone=_tone(bar.tone),
                x=0,
                y=bar_y,
                width=round(length, 1),
                height=BAR_THICKNESS,
                label_x=0,
                label_y=top + LABEL_LINE / 2,
                value_x=round(length + PADDING / 2, 1),
                value_y=bar_y + BAR_THICKNESS / 2,
            )
        )
    height = PADDING + len(bars) * ROW_HEIGHT - ROW_GAP + PADDING
    return ChartLayout(
        chart_id,
        title,
        description,
        "horizontal",
        CHART_WIDTH,
        max(height, 2 * PADDING),
        0,
        placed,
    )


def vertical_layout(
    chart_id: str, title: str, description: str, bars: Sequence[Bar]
) -> ChartLayout:
    """Columns from left to right along a baseline: for years and other short labels."""
    largest = _scale(bars)
    baseline = VALUE_HEIGHT + PLOT_HEIGHT
    placed = []
    for index, bar in enumerate(bars):
        x = PADDING + index * COLUMN_WIDTH + (COLUMN_WIDTH - COLUMN_THICKNESS) / 2
        length = PLOT_HEIGHT * bar.value / largest
        middle = x + COLUMN_THICKNESS / 2
        placed.append(
            PlacedBar(
                label=bar.label,
                short_label=shorten(bar.label, 7),
                value=bar.value,
                tone=_tone(bar.tone),
                x=x,
                y=round(baseline - length, 1),
                width=COLUMN_THICKNESS,
                height=round(length, 1),
                label_x=middle,
                label_y=baseline + AXIS_SPACE / 2,
                value_x=middle,
                value_y=round(baseline - length - VALUE_HEIGHT / 2, 1),
            )
        )
    width = 2 * PADDING + max(len(bars), 1) * COLUMN_WIDTH
    return ChartLayout(
        chart_id,
        title,
        description,
        "vertical",
        width,
        baseline + AXIS_SPACE,
        baseline,
        placed,
    )


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    vertical: bool = False,
) -> Markup:
    """An SVG bar chart with a title and description for screen readers, numbers on the bars.

    `chart_id` must be unique in the page (it names the title and description elements).
    """
    make_layout = vertical_layout if vertical else horizontal_layout
    layout = make_layout(chart_id, title, description, list(bars))
    return Markup(render_template(CHART_TEMPLATE, chart=layout))  # noqa: S704 (autoescaped template)
