"""Bar charts drawn on the server as SVG (insights/chart.html): no chart library, no script
and no style attribute, so the console's Content Security Policy stays strict. Each chart is
an image with a title and a description for screen readers, and its numbers stand in a table
beside it; colours come from classes in insights/insights.css."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 600
HEIGHT = 220
AXIS_LEFT = 48
AXIS_BOTTOM = 28
TOP = 12
ROW_HEIGHT = 26
LABEL_WIDTH = 180


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    label: str
    position: float


@dataclass(frozen=True)
class Chart:
    key: str  # unique on the page: the ids of the title and description
    title: str
    description: str
    orientation: str  # "columns" (a time series) or "rows" (a breakdown)
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: int
    value_heading: str
    label_heading: str
    series_class: str = "chart-bar"

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def middle(self) -> float:
        return self.width / 2

    @property
    def maximum(self) -> int:
        return max((bar.value for bar in self.bars), default=0)


def _nice_top(value: int) -> int:
    """The top of the scale: 1, 2 or 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def column_chart(
    *,
    key: str,
    title: str,
    description: str,
    points: list[tuple[str, int]],
    label_heading: str,
    value_heading: str,
    series_class: str = "chart-bar",
) -> Chart:
    """A time series as columns, one per point (day or hour); every few labels on the axis."""
    top = _nice_top(max((value for _, value in points), default=0))
    plot_width = WIDTH - AXIS_LEFT - 8
    plot_height = HEIGHT - TOP - AXIS_BOTTOM
    slot = plot_width / max(len(points), 1)
    gap = min(slot * 0.2, 4)
    bars = []
    for index, (label, value) in enumerate(points):
        height = plot_height * value / top
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(AXIS_LEFT + index * slot + gap / 2, 2),
                y=round(TOP + plot_height - height, 2),
                width=round(max(slot - gap, 1), 2),
                height=round(height, 2),
            )
        )
    ticks = (
        Tick(str(0), TOP + plot_height),
        Tick(str(top // 2) if top % 2 == 0 else "", TOP + plot_height / 2),
        Tick(str(top), TOP),
    )
    return Chart(
        key=key, title=title, description=description, orientation="columns",
        bars=tuple(bars), ticks=ticks, width=WIDTH, height=HEIGHT,
        value_heading=value_heading, label_heading=label_heading, series_class=series_class,
    )  # fmt: skip


def row_chart(
    *,
    key: str,
    title: str,
    description: str,
    items: list[tuple[str, int]],
    label_heading: str,
    value_heading: str,
    limit: int = 10,
) -> Chart:
    """A breakdown as horizontal bars, largest first, at most `limit` rows (the table beside
    it lists them all)."""
    items = items[:limit]
    top = max((value for _, value in items), default=0) or 1
    plot_width = WIDTH - LABEL_WIDTH - 60
    bars = tuple(
        Bar(
            label=label,
            value=value,
            x=LABEL_WIDTH,
            y=TOP + index * ROW_HEIGHT,
            width=round(max(plot_width * value / top, 1), 2),
            height=ROW_HEIGHT - 8,
        )
        for index, (label, value) in enumerate(items)
    )
    height = TOP * 2 + max(len(items), 1) * ROW_HEIGHT
    return Chart(
        key=key, title=title, description=description, orientation="rows", bars=bars,
        ticks=(), width=WIDTH, height=height, value_heading=value_heading,
        label_heading=label_heading,
    )  # fmt: skip
