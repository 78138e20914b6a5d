"""The report's charts: horizontal bar charts written directly as inline SVG whose text stays text.

Every bar carries `id`, `data-*` attributes and a printed count, so that the numbers can be read off
the page (and checked) without trusting the geometry. Written by hand rather than drawn by a plotting
library: importing and running matplotlib for these four charts cost more CPU than a small run itself.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

STATUS_COLOURS = {"translated": "#2f7ed8", "source_is_english": "#a7b1bd", "untranslated": "#e39b2d"}
STATUS_LABELS = {"translated": "translated", "source_is_english": "source is English",
                 "untranslated": "untranslated"}
DOCUMENTS_COLOUR = "#6a5acd"
SENTENCES_COLOUR = "#2e9c85"
REJECTS_COLOUR = "#d1495b"
STAGES_COLOUR = "#4c78a8"
PHASES_COLOUR = "#72b7b2"
TEXT_COLOUR = "#333b44"
TICK_COLOUR = "#6b7580"
AXIS_COLOUR = "#c9d0d8"
GRID_COLOUR = "#e6e9ee"
FONTS = "'DejaVu Sans', 'Noto Sans', 'Liberation Sans', Arial, Helvetica, sans-serif"

WIDTH = 806          # pixels: the page's content width
ROW = 29             # pixels per bar
CHARACTER = 7.2      # pixels per character of a 12 px label, to leave room for the longest
TOP, BOTTOM = 34, 46     # above the bars (title, legend) and below them (ticks, axis label)
BAR_SHARE = 0.62     # of a row's height
VALUE_ROOM = 0.18    # of a panel's width kept right of its longest bar for the printed value


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _attribute(value: object) -> str:
    return escape(str(value), quote=True)


class _Panel:
    """One bar panel: `x` and `width` of its plotting area, the largest value its axis shows."""

    def __init__(self, x: float, width: float, top: float, rows: int, largest: float, integer: bool):
        self.x, self.width, self.top, self.rows = x, width, top, rows
        self.ticks = _ticks(largest, integer)
        self.limit = max(largest * (1 + VALUE_ROOM), self.ticks[-1], 1e-9)

    def at(self, value: float) -> float:
        return self.x + self.width * value / self.limit

    def row_y(self, row: int) -> float:
        return self.top + ROW * row + ROW * (1 - BAR_SHARE) / 2

    @property
    def bottom(self) -> float:
        return self.top + ROW * self.rows


def _ticks(largest: float, integer: bool) -> list[float]:
    """Round tick values from 0 to at least `largest`, five or so."""
    if largest <= 0:
        return [0, 1]
    raw = largest / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in (1, 2, 2.5, 5, 10) if factor * magnitude >= raw)
    if integer:
        step = max(1, math.ceil(step))
    count = math.ceil(largest / step)
    return [step * index for index in range(count + 1)]


def _axes(panel: _Panel, title: str, axis_label: str, unit: str) -> list[str]:
    """Grid lines, ticks, the panel's left and bottom lines, its title and axis label."""
    parts = []
    for tick in panel.ticks:
        if tick > panel.limit:
            break
        x = panel.at(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{panel.top:.1f}" x2="{x:.1f}" y2="{panel.bottom:.1f}" '
                     f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
        parts.append(f'<text x="{x:.1f}" y="{panel.bottom + 15:.1f}" text-anchor="middle" font-size="11" '
                     f'fill="{TICK_COLOUR}">{_number(tick) if unit else f"{int(tick):,}"}</text>')
    parts.append(f'<path d="M{panel.x:.1f},{panel.top:.1f}V{panel.bottom:.1f}H{panel.x + panel.width:.1f}" '
                 f'fill="none" stroke="{AXIS_COLOUR}" stroke-width="1"/>')
    if title:
        parts.append(f'<text x="{panel.x:.1f}" y="{panel.top - 10:.1f}" font-size="13" font-weight="bold" '
                     f'fill="{TEXT_COLOUR}">{escape(title)}</text>')
    if axis_label:
        parts.append(f'<text x="{panel.x + panel.width / 2:.1f}" y="{panel.bottom + 33:.1f}" '
                     f'text-anchor="middle" font-size="12" fill="{TEXT_COLOUR}">{escape(axis_label)}</text>')
    return parts


def _bar(gid: str, x: float, y: float, width: float, colour: str, **data: object) -> str:
    attributes = "".join(f' data-{name}="{_attribute(value)}"' for name, value in data.items())
    return (f'<g id="{_attribute(gid)}" class="bar"{attributes}><rect x="{x:.1f}" y="{y:.1f}" '
            f'width="{max(width, 0):.1f}" height="{ROW * BAR_SHARE:.1f}" fill="{colour}"/></g>')


def _text(x: float, y: float, text: str, anchor: str = "start", colour: str = TEXT_COLOUR) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11" fill="{colour}" '
            f'dominant-baseline="central">{escape(text)}</text>')


def _labels(panel: _Panel, labels: Sequence[str]) -> list[str]:
    return [f'<text x="{panel.x - 6:.1f}" y="{panel.row_y(row) + ROW * BAR_SHARE / 2:.1f}" text-anchor="end" '
            f'font-size="12" fill="{TEXT_COLOUR}" dominant-baseline="central">{escape(str(label))}</text>'
            for row, label in enumerate(labels)]


def _bars(panel: _Panel, chart: str, labels: Sequence[str], values: Sequence[float], colour: str,
          unit: str = "") -> list[str]:
    """One bar per label, top to bottom, each with its value printed after it."""
    parts = _labels(panel, labels)
    for row, (label, value) in enumerate(zip(labels, values)):
        y = panel.row_y(row)
        end = panel.at(value)
        parts.append(_bar(f"bar-{chart}-{label}", panel.x, y, end - panel.x, colour, chart=chart, key=label,
                          count=value))
        printed = f"{value:.2f} {unit}" if unit else f"{value:,}"
        parts.append(_text(end + 3, y + ROW * BAR_SHARE / 2, printed))
    return parts


def _label_width(labels: Sequence[object]) -> float:
    return 14 + CHARACTER * max((len(str(label)) for label in labels), default=2)


def _svg(name: str, height: float, parts: Sequence[str]) -> str:
    body = "\n".join(parts)
    return (f'<svg class="chart" id="chart-{name}" role="img" width="{WIDTH}" height="{height:.0f}" '
            f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="{FONTS}">\n'
            f'<rect width="{WIDTH}" height="{height:.0f}" fill="white"/>\n{body}\n</svg>')


def _panels(labels: Sequence[str], columns: int, rows: int, largest: Sequence[float], top: float,
            integer: bool) -> list[_Panel]:
    """`columns` panels side by side, each `rows` bars high, their labels `labels` wide."""
    label_width = _label_width(labels)
    panel_width = (WIDTH - 16) / columns - label_width - 8
    return [_Panel(8 + column * (WIDTH - 16) / columns + label_width, panel_width, top, rows,
                   largest[column], integer) for column in range(columns)]


def volume_chart(languages: Sequence[str], documents: Mapping[str, int],
                 sentences: Mapping[str, Mapping[str, int]]) -> str:
    """Documents and sentences per language, side by side."""
    counts = {"documents": [documents.get(lang, 0) for lang in languages],
              "sentences": [sum(sentences.get(lang, {}).values()) for lang in languages]}
    panels = _panels(languages, 2, len(languages), [max(values, default=0) for values in counts.values()],
                     TOP, integer=True)
    parts = []
    for panel, (chart, values), colour in zip(panels, counts.items(), (DOCUMENTS_COLOUR, SENTENCES_COLOUR)):
        parts += _axes(panel, chart.capitalize(), "", "")
        parts += _bars(panel, chart, languages, values, colour)
    return _svg("volume", panels[0].bottom + BOTTOM - 16, parts)


def _legend(x: float, y: float) -> list[str]:
    parts = []
    for status, colour in STATUS_COLOURS.items():
        parts.append(f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="20" height="9" fill="{colour}"/>')
        parts.append(_text(x + 26, y, STATUS_LABELS[status]))
        x += 40 + CHARACTER * len(STATUS_LABELS[status])
    return parts


def status_chart(languages: Sequence[str], sentences: Mapping[str, Mapping[str, int]]) -> str:
    """Sentences per language, stacked by status, with the count printed in each wide enough part."""
    totals = [sum(sentences.get(lang, {}).values()) for lang in languages]
    widest = max(totals, default=0)
    (panel,) = _panels(languages, 1, len(languages), [widest], TOP, integer=True)
    parts = [*_legend(panel.x, 14), *_axes(panel, "", "sentences", ""), *_labels(panel, languages)]
    for row, lang in enumerate(languages):
        y, left = panel.row_y(row), 0
        for status, colour in STATUS_COLOURS.items():
            value = sentences.get(lang, {}).get(status, 0)
            start, end = panel.at(left), panel.at(left + value)
            parts.append(_bar(f"bar-status-{lang}-{status}", start, y, end - start, colour, chart="status",
                              key=lang, status=status, count=value))
            if value and value >= 0.06 * widest:
                parts.append(_text((start + end) / 2, y + ROW * BAR_SHARE / 2, f"{value:,}", "middle",
                                   TEXT_COLOUR if status == "source_is_english" else "white"))
            left += value
        parts.append(_text(panel.at(left) + 3, y + ROW * BAR_SHARE / 2, f"{left:,}"))
    return _svg("status", panel.bottom + BOTTOM, parts)


def rejects_chart(rejects: Mapping[str, int]) -> str:
    """Rejected inputs per reason; empty when nothing was rejected."""
    if not rejects:
        return ""
    reasons = list(rejects)
    values = [rejects[reason] for reason in reasons]
    (panel,) = _panels(reasons, 1, len(reasons), [max(values)], 10, integer=True)
    parts = [*_axes(panel, "", "inputs", ""), *_bars(panel, "rejects", reasons, values, REJECTS_COLOUR)]
    return _svg("rejects", panel.bottom + BOTTOM, parts)


def timing_chart(stage_seconds: Mapping[str, float], phase_seconds: Mapping[str, float]) -> str:
    """Seconds per stage (summed over the run's tasks) and per phase (wall clock), in pipeline order."""
    shown = [(name, title, values, colour) for name, title, values, colour in (
        ("stages", "Per stage (summed over tasks)", stage_seconds, STAGES_COLOUR),
        ("phases", "Per phase (wall clock)", phase_seconds, PHASES_COLOUR)) if values]
    if not shown:
        return ""
    rows = max(len(values) for _, _, values, _ in shown)
    labels = [name for _, _, values, _ in shown for name in values]
    largest = [max(float(value) for value in values.values()) for _, _, values, _ in shown]
    panels = _panels(labels, len(shown), rows, largest, TOP, integer=False)
    parts = []
    for panel, (name, title, values, colour) in zip(panels, shown):
        parts += _axes(panel, title, "seconds", "s")
        parts += _bars(panel, name, list(values), [float(value) for value in values.values()], colour, "s")
    return _svg("timing", panels[0].bottom + BOTTOM, parts)
