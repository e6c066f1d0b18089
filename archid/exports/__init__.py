"""Reading the portal's PDF exports into typed records.

The public surface: :data:`SPECS` (what each export type looks like),
:func:`parse_export` (a file → its records) and the errors a parse raises.
One module per export type declares its :class:`ExportSpec`
(``customers.py`` … ``invoices.py``); ``values.py`` turns cell text into
canonical values; ``parse.py`` reads any export against any spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from archid.exports import customers, ddt, invoices, orders, prices, products
from archid.exports.errors import (
    BadValue,
    CycleNotFound,
    EmptyPdf,
    EncryptedPdf,
    ExportParseError,
    LayoutChanged,
    MissingHeader,
    NotAPdf,
    RowsMisaligned,
    TruncatedPdf,
    WrongExportType,
    WrongLocale,
)
from archid.exports.layout import (
    BAD_CELLS_KEPT,
    BadCell,
    Column,
    Drop,
    ExportSpec,
    Lines,
    ParseStats,
)
from archid.exports.parse import parse_export
from archid.records import ExportType

__all__ = [
    "BAD_CELLS_KEPT",
    "SPECS",
    "BadCell",
    "BadValue",
    "Column",
    "CycleNotFound",
    "Drop",
    "EmptyPdf",
    "EncryptedPdf",
    "ExportParseError",
    "ExportSpec",
    "LayoutChanged",
    "Lines",
    "MissingHeader",
    "NotAPdf",
    "ParseStats",
    "RowsMisaligned",
    "TruncatedPdf",
    "WrongExportType",
    "WrongLocale",
    "parse_export",
    "spec_for_file_name",
]

#: The layout of every export type, in :class:`~archid.records.ExportType` order.
SPECS: Mapping[ExportType, ExportSpec] = MappingProxyType(
    {
        spec.type: spec
        for spec in (
            customers.SPEC,
            products.SPEC,
            prices.SPEC,
            orders.SPEC,
            ddt.SPEC,
            invoices.SPEC,
        )
    }
)


def spec_for_file_name(name: str) -> ExportSpec | None:
    """The spec whose export the portal names ``name`` (``Clienti.pdf``), if any.

    Case-insensitive; a browser's duplicate suffix (``Clienti (1).pdf``) is
    not recognised, nor are the English locale's names (``Customers.pdf``):
    such a file is not an Italian export (:class:`WrongLocale` when parsed).
    """
    wanted = name.casefold()
    for spec in SPECS.values():
        if any(known.casefold() == wanted for known in spec.file_names):
            return spec
    return None
