"""django-prometheus's request metrics, with every label drawn from a bounded set.

django-prometheus 2.5 maps a method outside HTTP's standard ones to "<invalid method>" for most
of its metrics, but labels the latency histogram with `request.method` as sent: each made-up
method (`PURGE1`, `PURGE2`, ...) then added a histogram of ~20 series that the process keeps
and /metrics sends on every scrape. The other labels are bounded already: view names come from
the URL patterns ("<unnamed view>" for a 404 and the ingest shortcut), status codes from our
responses, template names and exception types from our code.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django_prometheus.middleware import PrometheusAfterMiddleware


class BoundedPrometheusAfterMiddleware(PrometheusAfterMiddleware):
    def label_metric(
        self, metric: Any, request: HttpRequest, response: HttpResponse | None = None, **labels: str
    ) -> Any:
        if "method" in labels:
            labels["method"] = self._method(request)
        return super().label_metric(metric, request, response, **labels)
