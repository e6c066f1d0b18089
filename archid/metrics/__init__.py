"""Prometheus metrics: what archid measures, written for node_exporter, served over HTTP.

:class:`MetricsExporter` is the daemon's metrics task (``[metrics]``):
it reads the figures (:mod:`archid.metrics.registry`), rewrites the
textfile atomically (:mod:`archid.metrics.textfile`) and, if asked,
serves them (:mod:`archid.metrics.http`). The alert rules and dashboard
built on them are in ``docs/monitoring/``.
"""

from archid.metrics.exporter import WRITE_INTERVAL, MetricsExporter
from archid.metrics.registry import ArchidCollector, RunTotals, StoreReader
from archid.metrics.textfile import write_atomically

__all__ = [
    "WRITE_INTERVAL",
    "ArchidCollector",
    "MetricsExporter",
    "RunTotals",
    "StoreReader",
    "write_atomically",
]
