"""Server-side SVG bar charts: proportions, labels, tones, accessibility, escaping."""

from __future__ import annotations

from app.reports.charts import (
    CHART_WIDTH,
    MAX_LABEL_CHARS,
    VALUE_SPACE,
    Bar,
    bar_chart,
    horizontal_layout,
    vertical_layout,
)


def test_horizontal_bars_are_proportional_to_their_values():
    layout = horizontal_layout("c", "T", "D", [Bar("a", 10), Bar("b", 5), Bar("c", 0)])
    widths = [bar.width for bar in layout.bars]
    assert widths == [CHART_WIDTH - VALUE_SPACE, (CHART_WIDTH - VALUE_SPACE) / 2, 0]
    assert layout.bars[0].y < layout.bars[1].y < layout.bars[2].y
    assert all(bar.value_x > bar.width for bar in layout.bars)


def test_vertical_columns_rise_from_one_baseline():
    layout = vertical_layout("c", "T", "D", [Bar("2024", 17), Bar("2025", 43)])
    short, tall = layout.bars
    assert tall.height > short.height
    assert short.y + short.height == tall.y + tall.height == layout.baseline
    assert round(short.height / tall.height, 2) == round(17 / 43, 2)


def test_all_zero_and_empty_charts_draw_without_dividing_by_zero():
    assert [bar.width for bar in horizontal_layout("c", "T", "D", [Bar("a", 0)]).bars] == [0]
    assert horizontal_layout("c", "T", "D", []).bars == []
    assert vertical_layout("c", "T", "D", []).bars == []


def test_long_labels_are_shortened_but_kept_whole_in_the_tooltip():
    label = "x" * (MAX_LABEL_CHARS + 20)
    (bar,) = horizontal_layout("c", "T", "D", [Bar(label, 1)]).bars
    assert len(bar.short_label) == MAX_LABEL_CHARS
    assert bar.short_label.endswith("…")
    assert bar.label == label


def test_unknown_tones_are_dropped():
    bars = horizontal_layout("c", "T", "D", [Bar("a", 1, "warn"), Bar("b", 1, 'x" onload=')]).bars
    assert [bar.tone for bar in bars] == ["warn", None]


def test_the_svg_is_labelled_for_screen_readers_and_escapes_text(app):
    with app.test_request_context():
        svg = bar_chart(
            "chart-x",
            "Agreements <by> kind",
            "MoU: 3; PKS: 36",
            [Bar("<script>alert(1)</script>", 3), Bar("PKS & co", 36, "ok")],
        )
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert '<title id="chart-x-title">Agreements &lt;by&gt; kind</title>' in svg
    assert '<desc id="chart-x-desc">MoU: 3; PKS: 36</desc>' in svg
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "PKS &amp; co" in svg
    assert ">36</text>" in svg
    assert 'class="chart-bar chart-bar-ok"' in svg
