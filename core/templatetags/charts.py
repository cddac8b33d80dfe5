"""`{% bar_chart chart caption="..." %}`: draws a core.charts.Chart as inline SVG."""

from typing import Any

from django import template

from core.charts import Chart

register = template.Library()


@register.inclusion_tag("charts/_bar_chart.html")
def bar_chart(chart: Chart, caption: str = "", chart_id: str = "", hourly: bool = False) -> dict:
    return {"chart": chart, "caption": caption, "chart_id": chart_id, "hourly": hourly}


@register.filter
def get_count(values: dict[str, int], key: str) -> Any:
    return values.get(key, 0)
