"""The report's charts, drawn with matplotlib as inline SVG whose text stays text.

Every bar carries `id`, `data-*` attributes and a printed count, so that the numbers can be read off
the page (and checked) without trusting the geometry. Matplotlib is imported on first use: the
pipeline imports this module at the end of each run only.
"""
from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

STATUS_COLOURS = {"translated": "#2f7ed8", "source_is_english": "#a7b1bd", "untranslated": "#e39b2d"}
STATUS_LABELS = {"translated": "translated", "source_is_english": "source is English",
                 "untranslated": "untranslated"}
DOCUMENTS_COLOUR = "#6a5acd"
SENTENCES_COLOUR = "#2e9c85"
REJECTS_COLOUR = "#d1495b"
STAGES_COLOUR = "#4c78a8"
PHASES_COLOUR = "#72b7b2"
TEXT_COLOUR = "#333b44"
FONTS = ["DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial", "Helvetica"]
_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": FONTS,
    "font.size": 9,
    "text.color": TEXT_COLOUR,
    "axes.labelcolor": TEXT_COLOUR,
    "axes.edgecolor": "#c9d0d8",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "xtick.color": "#6b7580",
    "ytick.color": TEXT_COLOUR,
    "ytick.labelsize": 9,
    "xtick.labelsize": 8,
}
_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


class _Marks:
    """Attributes to add to the SVG groups of named artists once the figure is saved."""

    def __init__(self) -> None:
        self.attributes: dict[str, dict[str, str]] = {}

    def mark(self, artist: Any, gid: str, **attributes: Any) -> None:
        artist.set_gid(gid)
        self.attributes[gid] = {name.replace("_", "-"): str(value) for name, value in attributes.items()}

    def apply(self, svg: str) -> str:
        for gid, attributes in self.attributes.items():
            extra = "".join(f' data-{name}="{_attribute(value)}"' for name, value in attributes.items())
            svg = svg.replace(f'<g id="{gid}">', f'<g id="{gid}" class="bar"{extra}>', 1)
        return svg


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _figure(width: float, labels: Sequence[str], columns: int = 1, row_height: float = 0.3,
            rows: int = 0, top: float = 0.42):
    """A figure of `columns` bar panels sized for `labels` on their y axis.

    The margins are set in inches from the labels' length rather than by matplotlib's layout engines,
    which take longer than drawing the charts themselves.
    """
    from matplotlib.figure import Figure

    height = 0.53 + top + row_height * max(rows or len(labels), 1)
    label_width = 0.25 + 0.085 * max((len(str(label)) for label in labels), default=2)
    figure = Figure(figsize=(width, height))
    panel = (width - 0.2 - columns * label_width) / columns
    figure.subplots_adjust(left=label_width / width, right=1 - 0.2 / width, top=1 - top / height,
                           bottom=0.52 / height, wspace=label_width / panel)
    axes = figure.subplots(1, columns, squeeze=False)[0]
    for ax in axes:
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#e6e9ee", linewidth=0.8)
        ax.set_axisbelow(True)
    return figure, axes


def _to_svg(figure: Any, name: str, marks: _Marks) -> str:
    """The figure as an `<svg>` element to paste into HTML: no XML prologue, metadata or namespaces
    (HTML does not need them, and they would be the page's only URLs)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
    svg = _NAMESPACES.sub("", _METADATA.sub("", _PROLOGUE.sub("", buffer.getvalue(), count=1)))
    svg = svg.replace("<svg ", f'<svg class="chart" id="chart-{name}" role="img" ', 1)
    return marks.apply(svg)


def _draw(name: str, draw: Any, *args: Any) -> str:
    """Run one drawing function under the report's style; the salt names the SVG's internal ids after
    the chart, so that several charts in one page never share an id and the output is reproducible."""
    import matplotlib

    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"report-{name}"}):
        marks = _Marks()
        figure = draw(marks, *args)
        return _to_svg(figure, name, marks)


def _bars(ax: Any, marks: _Marks, chart: str, labels: Sequence[str], values: Sequence[float],
          colour: str, unit: str = "", slots: int = 0) -> None:
    """Horizontal bars, one per label, top to bottom; `slots` keeps bars as thick as in a panel beside
    this one that has more of them."""
    from matplotlib.ticker import MaxNLocator

    positions = list(range(len(labels)))
    bars = ax.barh(positions, values, color=colour, height=0.62)
    for label, value, bar in zip(labels, values, bars):
        marks.mark(bar, f"bar-{chart}-{label}", chart=chart, key=label, count=value)
    texts = [f"{value:.2f} {unit}".strip() if unit else f"{value:,}" for value in values]
    ax.bar_label(bars, labels=texts, padding=3, fontsize=8, color=TEXT_COLOUR)
    ax.set_yticks(positions, labels)
    ax.set_ylim(max(slots, len(labels)) - 0.5, -0.5)
    ax.margins(x=0.18)
    if not unit:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def volume_chart(languages: Sequence[str], documents: Mapping[str, int],
                 sentences: Mapping[str, Mapping[str, int]]) -> str:
    """Documents and sentences per language, side by side."""
    def draw(marks: _Marks):
        figure, (left, right) = _figure(8.4, languages, 2)
        _bars(left, marks, "documents", languages, [documents.get(lang, 0) for lang in languages],
              DOCUMENTS_COLOUR)
        left.set_title("Documents")
        _bars(right, marks, "sentences", languages,
              [sum(sentences.get(lang, {}).values()) for lang in languages], SENTENCES_COLOUR)
        right.set_title("Sentences")
        return figure

    return _draw("volume", draw)


def status_chart(languages: Sequence[str], sentences: Mapping[str, Mapping[str, int]]) -> str:
    """Sentences per language, stacked by status, with the count printed in each wide enough part."""
    def draw(marks: _Marks):
        from matplotlib.ticker import MaxNLocator

        figure, (ax,) = _figure(8.4, languages, row_height=0.26)
        positions = list(range(len(languages)))
        left = [0] * len(languages)
        for status, colour in STATUS_COLOURS.items():
            values = [sentences.get(lang, {}).get(status, 0) for lang in languages]
            bars = ax.barh(positions, values, left=left, color=colour, height=0.62,
                           label=STATUS_LABELS[status])
            for lang, value, bar in zip(languages, values, bars):
                marks.mark(bar, f"bar-status-{lang}-{status}", chart="status", key=lang, status=status,
                           count=value)
            widest = max((sum(sentences.get(lang, {}).values()) for lang in languages), default=0)
            ax.bar_label(bars, labels=[f"{v:,}" if v and v >= 0.06 * widest else "" for v in values],
                         label_type="center", fontsize=8,
                         color=TEXT_COLOUR if status == "source_is_english" else "white")
            left = [a + b for a, b in zip(left, values)]
        ax.bar_label(bars, labels=[f"{total:,}" for total in left], padding=3, fontsize=8,
                     color=TEXT_COLOUR)
        ax.set_yticks(positions, languages)
        ax.invert_yaxis()
        # Set, not left to margins: the empty segments at the end of each bar pin autoscaling there.
        ax.set_xlim(0, max(max(left, default=0), 1) * 1.1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False, fontsize=8)
        ax.set_xlabel("sentences")
        return figure

    return _draw("status", draw)


def rejects_chart(rejects: Mapping[str, int]) -> str:
    """Rejected inputs per reason; empty when nothing was rejected."""
    if not rejects:
        return ""
    reasons = list(rejects)

    def draw(marks: _Marks):
        figure, (ax,) = _figure(8.4, reasons, row_height=0.26, top=0.15)
        _bars(ax, marks, "rejects", reasons, [rejects[reason] for reason in reasons], REJECTS_COLOUR)
        ax.set_xlabel("inputs")
        return figure

    return _draw("rejects", draw)


def timing_chart(stage_seconds: Mapping[str, float], phase_seconds: Mapping[str, float]) -> str:
    """Seconds per stage (summed over the run's tasks) and per phase (wall clock), in pipeline order."""
    panels = [(name, title, values, colour) for name, title, values, colour in (
        ("stages", "Per stage (summed over tasks)", stage_seconds, STAGES_COLOUR),
        ("phases", "Per phase (wall clock)", phase_seconds, PHASES_COLOUR)) if values]
    if not panels:
        return ""

    def draw(marks: _Marks):
        slots = max(len(values) for _, _, values, _ in panels)
        figure, axes = _figure(8.4, [name for _, _, values, _ in panels for name in values], len(panels),
                               rows=slots)
        for ax, (name, title, values, colour) in zip(axes, panels):
            _bars(ax, marks, name, list(values), [float(value) for value in values.values()], colour, "s",
                  slots)
            ax.set_title(title)
            ax.set_xlabel("seconds")
        return figure

    return _draw("timing", draw)
