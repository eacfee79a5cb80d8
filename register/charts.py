"""Charts drawn on the server as SVG, embedded in the page: no JavaScript, nothing to load.

Two kinds: horizontal bars (a label, a bar and its value per category) and columns (one per
month, with a part of each column, e.g. the reports filed late, drawn apart). The SVG is built
as text with every label escaped (labels are Kyrgyz, Russian or English text from reference
lists an admin edits). It carries no `style` attribute and no `<style>` element, which the
strict CSP would block: colours come from presentation attributes (`fill`), which the stylesheet
overrides through the `chart__…` classes. Each chart is `role="img"` named by its `<title>` and
described by its `<desc>` (which lists the values too); the page puts a table with the same
numbers beside it, and every bar's value is printed on the chart itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 250  # room for the labels of horizontal bars
VALUE_ROOM = 70  # room right of the longest bar for its value
ROW_HEIGHT = 28
BAR_HEIGHT = 18
MAX_LABEL = 30  # characters; longer labels are cut (the full one is in the table and a tooltip)
BAR_FILL = "#0b5394"
PART_FILL = "#b10e1e"
TEXT_FILL = "#0b0c0c"


@dataclass(frozen=True)
class Datum:
    """One category: its label, its value, and (for columns) the part drawn apart."""

    label: str
    value: int
    part: int = 0
    short: str = ""  # the columns' axis label (lines split by "\n"); the label if empty


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")  # a narrow no-break space between thousands


def _short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _label_text(label: str, limit: int, **attributes: str | int) -> str:
    """A <text> with the label, cut to `limit` characters with the full label as its tooltip."""
    shown = _short(label, limit)
    tooltip = f"<title>{escape(label)}</title>" if shown != label else ""
    return f"<text{_attributes(attributes)}>{tooltip}{escape(shown)}</text>"


def _attributes(attributes: dict[str, str | int]) -> str:
    return "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attributes.items()
    )


def _open(chart_id: str, title: str, description: str, height: int, css_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" role="img"'
        f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-size="14"'
        f' aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc"'
        f' id="{escape(chart_id)}">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )


def _described(description: str, data: Sequence[Datum], part_label: str = "") -> str:
    values = "; ".join(
        f"{datum.label}: {_number(datum.value)}"
        + (f" ({part_label}: {_number(datum.part)})" if part_label and datum.part else "")
        for datum in data
    )
    return f"{description} {values}." if values else description


def bar_chart(chart_id: str, title: str, description: str, data: Sequence[Datum]) -> Markup:
    """Horizontal bars, one row per category, the value printed after each bar."""
    height = max(len(data), 1) * ROW_HEIGHT + 8
    largest = max((datum.value for datum in data), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    parts = [_open(chart_id, title, _described(description, data), height, "chart--bars")]
    for row, datum in enumerate(data):
        top = 4 + row * ROW_HEIGHT
        middle = top + ROW_HEIGHT // 2
        length = round(datum.value / largest * room)
        if datum.value and not length:
            length = 1  # a small count stays visible
        parts.append(
            _label_text(
                datum.label,
                MAX_LABEL,
                x=LABEL_WIDTH - 8,
                y=middle,
                text_anchor="end",
                dominant_baseline="middle",
                fill=TEXT_FILL,
                class_="chart__label",
            )
        )
        parts.append(
            f'<rect class="chart__bar" x="{LABEL_WIDTH}" y="{middle - BAR_HEIGHT // 2}"'
            f' width="{length}" height="{BAR_HEIGHT}" fill="{BAR_FILL}"/>'
        )
        parts.append(
            f'<text class="chart__value" x="{LABEL_WIDTH + length + 6}" y="{middle}"'
            f' dominant-baseline="middle" fill="{TEXT_FILL}">{_number(datum.value)}</text>'
        )
    parts.append(
        f'<line class="chart__axis" x1="{LABEL_WIDTH}" y1="0" x2="{LABEL_WIDTH}"'
        f' y2="{height}" stroke="{TEXT_FILL}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every piece of text above is escaped


def column_chart(
    chart_id: str, title: str, description: str, data: Sequence[Datum], part_label: str = ""
) -> Markup:
    """Columns (the months), the value above each; `part` drawn at the foot of its column in
    another colour, its value under the column's label, with a legend naming it."""
    height = 290
    top, bottom = 44, 66  # room for the legend and values above, labels below
    plot = height - top - bottom
    slot = (WIDTH - 16) / max(len(data), 1)
    column = slot * 0.7
    largest = max((datum.value for datum in data), default=0) or 1
    parts = [
        _open(
            chart_id,
            title,
            _described(description, data, part_label),
            height,
            "chart--columns",
        )
    ]
    if part_label:
        parts.append(
            f'<rect class="chart__bar chart__bar--part" x="8" y="6" width="14" height="14"'
            f' fill="{PART_FILL}"/>'
        )
        parts.append(
            _label_text(
                part_label,
                60,
                x=28,
                y=13,
                dominant_baseline="middle",
                fill=TEXT_FILL,
                class_="chart__legend",
            )
        )
    base = top + plot
    for index, datum in enumerate(data):
        left = 8 + index * slot + (slot - column) / 2
        centre = left + column / 2
        length = round(datum.value / largest * plot)
        if datum.value and not length:
            length = 1
        part = round(datum.part / largest * plot) if datum.part else 0
        if datum.part and not part:
            part = 1
        parts.append(
            f'<rect class="chart__bar" x="{left:.1f}" y="{base - length}" width="{column:.1f}"'
            f' height="{length}" fill="{BAR_FILL}"/>'
        )
        if part:
            parts.append(
                f'<rect class="chart__bar chart__bar--part" x="{left:.1f}" y="{base - part}"'
                f' width="{column:.1f}" height="{part}" fill="{PART_FILL}"/>'
            )
        parts.append(
            f'<text class="chart__value" x="{centre:.1f}" y="{base - length - 6}"'
            f' text-anchor="middle" fill="{TEXT_FILL}">{_number(datum.value)}</text>'
        )
        for line, text in enumerate((datum.short or datum.label).split("\n")):
            parts.append(
                _label_text(
                    text,
                    9,
                    x=f"{centre:.1f}",
                    y=base + 18 + line * 16,
                    text_anchor="middle",
                    fill=TEXT_FILL,
                    class_="chart__label",
                )
            )
        if datum.part:
            parts.append(
                f'<text class="chart__value chart__value--part" x="{centre:.1f}"'
                f' y="{base + 56}" text-anchor="middle" fill="{PART_FILL}">'
                f"{_number(datum.part)}</text>"
            )
    parts.append(
        f'<line class="chart__axis" x1="8" y1="{base}" x2="{WIDTH - 8}" y2="{base}"'
        f' stroke="{TEXT_FILL}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every piece of text above is escaped
