"""Why an export could not be parsed: one hierarchy, one class per cause.

Every message says what is wrong with which file and what an operator can do
about it. A parse either yields every record of an export or raises one of
these: it never returns a silently shortened or misaligned result.

``transient`` (:mod:`archid.failures`) says whether exporting again may
help: a damaged or cut-off download may come out whole next time; a
changed layout will not. None of them is the portal's fault as the
circuit breaker counts it: the portal answered.
"""

from __future__ import annotations

from archid.failures import ArchidError


class ExportParseError(ArchidError):
    """Base class: this file cannot be turned into records."""


class NotAPdf(ExportParseError):
    """The file is not a PDF at all (an HTML error page saved as .pdf, …)."""

    transient = True


class EncryptedPdf(ExportParseError):
    """The PDF is encrypted; the portal's exports never are."""


class TruncatedPdf(ExportParseError):
    """The PDF ends early or is damaged (an interrupted download)."""

    transient = True


class EmptyPdf(ExportParseError):
    """The PDF has no pages."""

    transient = True


class LayoutChanged(ExportParseError):
    """The headers are not the ones this export type has: the portal changed."""


class MissingHeader(LayoutChanged):
    """A column the records need is not in the export."""


class WrongExportType(LayoutChanged):
    """The file is another type's export (customers given as orders, …)."""


class CycleNotFound(ExportParseError):
    """The pages do not repeat their headers in a regular cycle."""


class RowsMisaligned(ExportParseError):
    """The pages of a cycle do not hold the same rows."""


class WrongLocale(ExportParseError):
    """The export came from a browser not set to Italian: English headers, file name
    or formats (month-first dates, a 12-hour clock)."""


class BadValue(ExportParseError):
    """A cell of a strict column (a key) holds something that column cannot hold.

    Other columns' bad cells do not fail the export: see
    :class:`~archid.exports.layout.BadCell`.
    """
