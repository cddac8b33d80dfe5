"""Small bar charts drawn on the server as inline SVG (templates/charts/_bar_chart.html): no
script, no build step, readable without JavaScript.

A chart is a row of time slots (hours or days, oldest first), each a stack of series (event
types, accepted/rejected). Every slot carries a <title> with its exact numbers (a tooltip), the
SVG a role="img" label summing the chart up, and the same numbers follow in a table that screen
readers and keyboard users can open. Geometry is computed here, in whole pixels; colours are CSS
classes per series (the CSP forbids inline styles).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

HEIGHT = 72
GAP = 2


@dataclass(frozen=True)
class Rect:
    series: str
    x: int
    y: int
    width: int
    height: int


@dataclass
class Slot:
    label: str
    values: dict[str, int]
    total: int = 0
    title: str = ""
    x: int = 0
    rects: list[Rect] = field(default_factory=list)


@dataclass
class Chart:
    summary: str
    series: list[tuple[str, str]]  # (css key, label), bottom of the stack first
    slots: list[Slot]
    unit: str
    width: int = 0
    height: int = HEIGHT
    bar_width: int = 0
    total: int = 0
    first_label: str = ""
    last_label: str = ""


def bar_chart(
    *,
    what: str,
    unit: str,
    series: list[tuple[str, str]],
    slots: list[tuple[str, dict[str, int]]],
    bar_width: int = 10,
) -> Chart:
    """Lay out a stacked bar chart. `what` names the period for the summary ("per hour over the
    last 24 hours"); `unit` is the plural noun counted ("events", "messages")."""
    labels = dict(series)
    built = [Slot(label=label, values=values) for label, values in slots]
    peak = max((sum(s.values.values()) for s in built), default=0)
    for index, slot in enumerate(built):
        slot.total = sum(slot.values.values())
        slot.x = index * (bar_width + GAP)
        parts = [f"{labels[k]} {slot.values[k]:,}" for k, _ in series if slot.values.get(k)]
        detail = f" ({', '.join(parts)})" if len(series) > 1 and parts else ""
        slot.title = f"{slot.label}: {_counted(slot.total, unit)}{detail}"
        y = HEIGHT
        for key, _ in series:
            value = slot.values.get(key, 0)
            if not value:
                continue
            # Any non-zero value gets at least one pixel: a quiet hour is not an empty one.
            height = max(1, round(value / peak * (HEIGHT - 2)))
            y -= height
            slot.rects.append(Rect(series=key, x=slot.x, y=y, width=bar_width, height=height))
    total = sum(s.total for s in built)
    busiest = max(built, key=lambda s: s.total, default=None)
    summary = f"{unit.capitalize()} {what}: {total:,} in total"
    if busiest is not None and busiest.total:
        summary += f", most at {busiest.label} ({busiest.total:,})"
    return Chart(
        summary=summary + ".",
        series=series,
        slots=built,
        unit=unit,
        width=max(len(built) * (bar_width + GAP) - GAP, 1),
        bar_width=bar_width,
        total=total,
        first_label=built[0].label if built else "",
        last_label=built[-1].label if built else "",
    )


def _counted(n: int, unit: str) -> str:
    return f"{n:,} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"


def last_hours(now_hour: datetime, hours: int) -> list[datetime]:
    """The `hours` hours ending with the one `now_hour` starts, oldest first."""
    return [now_hour - timedelta(hours=hours - 1 - i) for i in range(hours)]


def last_days(today: date, days: int) -> list[date]:
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def hour_label(hour: datetime) -> str:
    return hour.strftime("%d %b %H:00 UTC")


def day_label(day: date) -> str:
    return day.strftime("%a %d %b %Y")
