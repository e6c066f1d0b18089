"""archid: keeps a local SQLite mirror of the Archibald ERP portal fresh.

The data flows through the package in this order: ``portal`` (a browser
exports a PDF) → ``exports`` (the PDF parsed into typed ``records``) →
``store`` (changes applied to SQLite) → ``metrics`` and ``control``.
``sim`` is the simulated portal the rest is tested against.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
