"""Hand-written sample exports of all six types, cell texts typed from spec v2's examples.

Independent of the simulator: every column of every type has sample cell
texts as spec section 2 shows them, and next to each the record field it
must feed and the value it must become. :func:`sample_pdf` prints rows of
them in any layout (the pages of ``tests.spec_layouts``) with the hand-made
writer (:mod:`tests.exports.handmade`); :func:`expected` says what each row
must parse to, field by field.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from archid.sim.grid import Column as GridColumn
from archid.sim.grid import Grid
from tests.exports.handmade import Cell, GridPage, GridStyle, grid_pdf

D = Decimal
FEDEX = "https://www.fedex.com/fedextrack/?trknbr=445291890750&locale=it_IT"
UPS = (
    "https://www.ups.com/track?HTMLVersion=5.0&loc=it_IT&Requester=UPSHome&tracknum=1Z9A"
    "&ignore=&track.x=42&track.y=6/trackdetails"
)
DHL = "https://www.dhl.com/it-it/home/tracking.html?submit=1&tracking-id=4041"

#: (cell text or lines, field value) samples of one column; row i takes sample i % len
Samples = Sequence[tuple[Cell, Any]]


@dataclass(frozen=True)
class Sample:
    """One column: its header as spec v2 prints it, the field it feeds, its samples.

    ``field`` is ``None`` for a column that feeds nothing; ``fields`` names
    several fields when one cell feeds more (the DDT's tracking link): its
    values are then tuples.
    """

    header: str
    field: str | None
    samples: Samples
    fields: tuple[str, ...] = ()


def _id(i: int) -> tuple[str, str]:
    value = 1000 + 37 * i
    return f"{value // 1000}.{value % 1000:03d}", str(value)


def ids(offset: int = 0) -> Callable[[int], tuple[str, str]]:
    return lambda i: _id(i + offset)


def numbered(template: str) -> Callable[[int], tuple[str, str]]:
    return lambda i: (template.format(i), template.format(i))


Column = Sample | tuple[str, str | None, Samples | Callable[[int], tuple[Cell, Any]]]

CUSTOMERS: list[Column] = [
    ("ID", "id", ids()),
    ("PROFILO CLIENTE:", "account", [("049421", "049421"), ("", None), ("1002202", "1002202")]),
    (
        "NOME",
        "name",
        [
            ("Studio Rossi", "Studio Rossi"),
            (["Laboratorio Zanetti", "di Valentini"], "Laboratorio Zanetti di Valentini"),
        ],
    ),
    ("PARTITA IVA:", "vat_number", [("01234567890", "01234567890")]),
    ("PEC:", "pec", [("rossi@pec.it", "rossi@pec.it"), ("", None)]),
    ("SDI:", "sdi", [("KRRH6B9", "KRRH6B9")]),
    ("CODICE FISCALE:", "fiscal_code", [("RICMAR80A01F839C", "RICMAR80A01F839C")]),
    (
        "TERMINI DI CONSEGNA",
        "delivery_mode",
        [("Porto franco", "Porto franco"), ("FedEx", "FedEx")],
    ),
    ("VIA:", "street", [("Via Roma 1", "Via Roma 1")]),
    ("INDIRIZZO LOGISTICO CAP", "postal_code", [("00185", "00185"), ("40100", "40100")]),
    ("CITTÀ", "city", [("Sant’Agata", "Sant’Agata"), ("L'Aquila", "L'Aquila")]),
    ("TELEFONO:", "phone", [("+39 06 1234567", "+39 06 1234567")]),
    ("CELLULARE:", "mobile", [("", None), ("+39 333 1234567", "+39 333 1234567")]),
    ("URL:", "url", [("", None)]),
    ("ALL’ATTENZIONE DI:", "attention_to", [("", None)]),
    ("DATA DELL'ULTIMO ORDINE", "last_order_date", [("21/01/2026", date(2026, 1, 21)), ("", None)]),
    ("CONTEGGI DEGLI ORDINI EFFETTIVI", "order_count", [("1.095", 1095), ("0", 0)]),
    (
        "TIPO DI CLIENTE",
        "sales_this_year",
        [("124.497,43 €", D("124497.43")), ("0,00 €", D("0.00"))],
    ),
    ("CONTEGGIO DEGLI ORDINI PRECEDENTE", "order_count_last_year", [("12", 12)]),
    ("VENDITE PRECEDENTE", "sales_last_year", [("1.234,50 €", D("1234.50"))]),
    ("CONTEGGIO DEGLI ORDINI PRECEDENTE 2", "order_count_year_before", [("7", 7), ("", None)]),
    ("VENDITE PRECEDENTE", "sales_year_before", [("98,00 €", D("98.00"))]),
    (
        "DESCRIZIONE:",
        "description",
        [("Debitor", "Debitor"), ("Customer from K3", "Customer from K3")],
    ),
    ("TYPE:", "type_code", [("Debitor", "Debitor"), ("PotDentiItal", "PotDentiItal")]),
    ("NUMERO DI CONTO ESTERNO", "external_account", [("049421", "049421")]),
    ("IL NOSTRO NUMERO DI CONTO", "our_account", [("", None)]),
]

PRODUCTS: list[Column] = [
    ("ID ARTICOLO", "article", lambda i: (f"0{21752 + i}K1", f"0{21752 + i}K1")),
    ("NOME ARTICOLO:", "catalogue_number", [("9686.204.040", "9686.204.040")]),
    ("DESCRIZIONE", "description", [("Fresa diamantata", "Fresa diamantata")]),
    ("GRUPPO ARTICOLO:", "group", [("FRESE", "FRESE")]),
    ("IMMAGINE:", None, [("System.Byte[]", None)]),
    ("CONTENUTO DELL'IMBALLAGGIO", "pack_size", [("5", "5"), ("1", "1")]),
    ("NOME DELLA RICERCA", "search_name", [("FRESA", "FRESA")]),
    ("UNITÀ DI PREZZO:", "price_unit", [("PZ", "PZ")]),
    ("ID GRUPPO DI PRODOTTI", "product_group_id", [("0042", "0042")]),
    ("DESCRIZIONE GRUPPO ARTICOLO:", "group_description", [("Frese", "Frese")]),
    ("QTÀ MINIMA:", "min_qty", [("1,00", D("1.00"))]),
    ("QTÀ MULTIPLI:", "multiple_qty", [("100,00", D("100.00"))]),
    ("QTÀ MASSIMA:", "max_qty", [("1.000,00", D("1000.00")), ("", None)]),
    ("FIGURA:", "figure", [("204", "204")]),
    ("DATAAREAID", "data_area_id", [("kmt", "kmt")]),
    ("ID", "id", ids()),
    (
        "DATETIME MODIFICATO",
        "modified_at",
        [("20/01/2026 12:04:22", datetime(2026, 1, 20, 12, 4, 22))],
    ),
    ("FERMATO", "stopped", [("No", False), ("Sì", True)]),
    ("ID IN BLOCCO DELL'ARTICOLO", "block_id", [("", None)]),
    ("PACCO", "pack", [("", None)]),
    ("GAMBA", "shank", [("FG", "FG")]),
    ("GRANDEZZA", "size", [("040", "040")]),
    ("ID DI CONFIGURAZIONE", "config_id", [("", None)]),
    ("CREATO DA:", "created_by", [("admin", "admin")]),
    ("DATA CREATA", "created_at", [("02/03/2015 08:00:00", datetime(2015, 3, 2, 8))]),
    ("QTÀ PREDEFINITA:", "default_qty", [("5,00", D("5.00"))]),
    (
        "VISUALIZZA IL NUMERO DI PRODOTTO",
        "display_number",
        [("005159K2 : v.001", "005159K2 : v.001")],
    ),
    ("SCONTO ASSOLUTO TOTALE:", "total_absolute_discount", [("Unchecked", "Unchecked")]),
    ("SCONTO LINEA", "line_discount", [("Checked", "Checked")]),
    ("MODIFICATO DA:", "modified_by", [("sync", "sync")]),
    ("ARTICOLO ORDINABILE:", "orderable", [("Sì", "Sì")]),
    ("PURCH PRICE PCS", "purchase_price", [("12,30 €", D("12.30")), ("", None)]),
    ("ID DI CONFIGURAZIONE STANDARD", "standard_config_id", [("", None)]),
    ("QTÀ STANDARD:", "standard_qty", [("1,00", D("1.00"))]),
    ("ID ELEMENTO IVAID", "vat_item_id", [("22", "22")]),
    ("ID UNITÀ", "unit_id", [("001", "001")]),
]

PRICES: list[Column] = [
    ("ID", "id", lambda i: (str(4 + i), str(4 + i))),
    ("CODICE CONTO", "account_code", [("Group", "Group")]),
    ("ACCOUNT:", "price_group", [("002", "002")]),
    (
        "DESCRIZIONE ACCOUNT:",
        "price_group_name",
        [("DETTAGLIO (consigliato)", "DETTAGLIO (consigliato)")],
    ),
    ("ITEM SELECTION:", "article", lambda i: (f"0{21752 + i}K1", f"0{21752 + i}K1")),
    ("ITEM DESCRIPTION:", "catalogue_number", [("9686.204.040", "9686.204.040")]),
    ("DA DATA", "valid_from", [("01/01/2026", date(2026, 1, 1))]),
    ("DATA", "valid_to", [("31/12/2154", date(2154, 12, 31))]),
    ("QUANTITÀIMPORTODA", "qty_from", [("1", D(1))]),
    ("QUANTITÀIMPORTO", "qty_to", [("100.000.000", D(100000000))]),
    ("UNITÀ DI PREZZO", "price_unit", [("PZ", "PZ")]),
    ("IMPORTO UNITARIO:", "unit_price", [("234,59 €", D("234.59")), ("1.002,10 €", D("1002.10"))]),
    ("VALUTA", "currency", [("EUR", "EUR")]),
    ("PREZZO NETTO BRASSELER", "net_price", [("No", False), ("Sì", True)]),
]

ORDERS: list[Column] = [
    ("ID", "id", ids(40)),
    ("ID DI VENDITA", "order_number", [("ORD/26000887", "ORD/26000887"), ("", None)]),
    ("PROFILO CLIENTE:", "account", [("049421", "049421"), ("", None)]),
    ("NOME VENDITE:", "account_name", [("Cooperativa K3", "Cooperativa K3")]),
    ("NOME DI CONSEGNA", "delivery_name", [("Studio Rossi", "Studio Rossi")]),
    (
        "INDIRIZZO DI CONSEGNA",
        "delivery_address",
        [(["Via Roma 1", "00185 Roma RM"], "Via Roma 1 00185 Roma RM")],
    ),
    (
        "DATA DI CREAZIONE",
        "created_at",
        [("20/01/2026 12:04:22", datetime(2026, 1, 20, 12, 4, 22))],
    ),
    ("DATA DI CONSEGNA", "delivery_date", [("21/01/2026", date(2026, 1, 21)), ("", None)]),
    ("RIMANI VENDITE FINANZIARIE", "purchase_order", [("4846", "4846")]),
    ("RIFERIMENTO CLIENTE", "customer_reference", [("", None), ("Rif. 12", "Rif. 12")]),
    (
        "STATO DELLE VENDITE",
        "sales_status",
        [("Fatturato", "Fatturato"), ("Ordine aperto", "Ordine aperto")],
    ),
    ("TIPO DI ORDINE", "order_type", [("Ordine di vendita", "Ordine di vendita")]),
    ("STATO DEL DOCUMENTO", "document_status", [("Fattura:", "Fattura:"), ("Nessuno", "Nessuno")]),
    ("ORIGINE VENDITE:", "sales_origin", [("Agent", "Agent")]),
    ("STATO DEL TRASFERIMENTO", "transfer_status", [("Trasferito", "Trasferito")]),
    ("DATA DI TRASFERIMENTO", "transfer_date", [("21/01/2026", date(2026, 1, 21))]),
    ("DATA DI COMPLETAMENTO", "completed_date", [("", None), ("22/01/2026", date(2026, 1, 22))]),
    ("PREVENTIVO:", "quote", [("No", False)]),
    ("APPLICA SCONTO %:", "discount_percent", [("0,00 %", D("0.00")), ("21,49 %", D("21.49"))]),
    ("IMPORTO LORDO:", "gross_amount", [("105,60 €", D("105.60"))]),
    ("IMPORTO TOTALE", "total_amount", [("0,00 €", D("0.00")), ("1.105,60 €", D("1105.60"))]),
    ("ORDINE OMAGGIO:", "gift_order", [("Unchecked", False), ("Checked", True)]),
    ("E-MAIL", "email", [("rossi@studio.it", "rossi@studio.it"), ("", None)]),
]

_TRACKING: Samples = [
    (
        [
            '<a href = "https://www.fedex.com/',
            "fedextrack/?trknbr=445291890750",
            "&locale=it_IT",
            'target="_blank">fedex',
            "445291890750</a>",
        ],
        ("fedex", "445291890750", FEDEX),
    ),
    ("", (None, None, None)),
    (
        [
            '<a href="https://www.ups.com/track?',
            "HTMLVersion=5.0&loc=it_IT&Requester=",
            "UPSHome&tracknum=1Z9A&ignore=&track.x=",
            '42&track.y=6/trackdetails"',
            'target="_blank">Ups 1Z9A</a>',
        ],
        ("Ups", "1Z9A", UPS),
    ),
    (
        [
            '<a href="https://www.dhl.com/it-it/',
            "home/tracking.html?submit=1&tracking-",
            'id=4041" target="_blank">dhl 4041</a>',
        ],
        ("dhl", "4041", DHL),
    ),
]

DDT: list[Column] = [
    ("PDF DDT", None, [("", None)]),
    ("ID", "id", ids(90)),
    ("DOCUMENTO DI TRASPORTO:", "ddt_number", numbered("DDT/2600{:04d}")),
    ("DATA DI CONSEGNA", "delivery_date", [("21/01/2026", date(2026, 1, 21))]),
    ("ID DI VENDITA", "order_number", [("ORD/26000752", "ORD/26000752")]),
    ("CONTO DELL'ORDINE", "order_account", [("049421", "049421")]),
    ("NOME VENDITE:", "account_name", [("Cooperativa K3", "Cooperativa K3")]),
    ("NOME DI CONSEGNA", "delivery_name", [("Studio Rossi", "Studio Rossi")]),
    (
        "NOME DI CONSEGNA",
        "delivery_address",
        [(["Via Roma 1", "00185 Roma RM"], "Via Roma 1 00185 Roma RM")],
    ),
    ("TOTALE", "quantity", [("11", 11), ("-1", -1), ("1.002", 1002)]),
    ("RIFERIMENTO CLIENTE", "customer_reference", [("", None)]),
    ("DESCRIZIONE:", "purchase_order", [("4846", "4846")]),
    Sample(
        "NUMERO DI TRACCIABILITÀ",
        None,
        _TRACKING,
        ("tracking_carrier", "tracking_number", "tracking_url"),
    ),
    (
        "TERMINI DI CONSEGNA:",
        "delivery_terms",
        [
            (["Spese trasporto", "carico destinatario"], "Spese trasporto carico destinatario"),
            ("", None),
        ],
    ),
    ("MODALITÀ DI CONSEGNA", "delivery_mode", [("UPS Italia", "UPS Italia"), ("FedEx", "FedEx")]),
    ("ALL'ATTENZIONE DI", "attention_to", [("", None)]),
    ("CITTÀ DI CONSEGNA", "delivery_email", [("rossi@studio.it;", "rossi@studio.it;")]),
]

INVOICES: list[Column] = [
    ("FATTURA PDF", None, [("", None)]),
    ("ID FATTURA", "invoice_number", numbered("CF1/2600{:04d}")),
    ("DATA FATTURA", "invoice_date", [("21/01/2026", date(2026, 1, 21))]),
    ("CONTO FATTURE", "account", [("049421", "049421")]),
    ("NOME DI FATTURAZIONE", "billing_name", [("Studio Rossi", "Studio Rossi")]),
    ("QUANTITÀ", "quantity", [("1.095", 1095), ("-1", -1)]),
    ("SALDO VENDITE MST", "sales_balance", [("2.112,7", D("2112.7")), ("20", D(20))]),
    ("SOMMA LINEA SCONTO MST", "line_discount_sum", [("1.791", D(1791)), ("-539,2", D("-539.2"))]),
    ("SCONTO TOTALE:", "total_discount", [("0", D(0))]),
    ("SOMMA FISCALE MST", "tax_sum", [("(360,65)", D("-360.65")), ("360,65-", D("-360.65"))]),
    ("IMPORTO FATTURA MST", "invoice_amount", [("-6.732", D(-6732)), ("2.577,49", D("2577.49"))]),
    ("ORDINE DI ACQUISTO", "purchase_order", [("4846", "4846"), ("Accredito", "Accredito")]),
    ("RIFERIMENTO CLIENTE", "customer_reference", [("", None)]),
    ("SCADENZA", "due_date", [("31/03/2026", date(2026, 3, 31))]),
    (
        "ID TERMINE DI PAGAMENTO",
        "payment_terms",
        [(["201 BONIF. BANC.", "60 GG.DFFM Iban"], "201 BONIF. BANC. 60 GG.DFFM Iban")],
    ),
    ("OLTRE I GIORNI DI SCADENZA", "days_past_due", [("0", 0), ("1.002", 1002)]),
    ("LIQUIDA IMPORTO MST", "settled_amount", [("2.112,7", D("2112.7"))]),
    ("IDENTIFICATIVO ULTIMO PAGAMENTO:", "last_payment_id", [("INC/22000452", "INC/22000452")]),
    ("DATA DI ULTIMA LIQUIDAZIONE", "last_settlement_date", [("30/12/2025", date(2025, 12, 30))]),
    ("CHIUSO", "closed_on", [("30/12/2025", date(2025, 12, 30)), ("", None)]),
    ("IMPORTO RIMANENTE MST", "remaining_amount", [("0", D(0))]),
    ("ID VENDITE", "order_number", [("ORD/26000752", "ORD/26000752"), ("", None)]),
]

COLUMNS: dict[str, list[Column]] = {
    "customers": CUSTOMERS,
    "products": PRODUCTS,
    "prices": PRICES,
    "orders": ORDERS,
    "ddt": DDT,
    "invoices": INVOICES,
}


def _sample(column: Column) -> Sample:
    if isinstance(column, Sample):
        return column
    header, field, samples = column
    if callable(samples):
        return Sample(header, field, _Generated(samples))
    return Sample(header, field, samples)


class _Generated(Sequence[tuple[Cell, Any]]):
    """Samples made from the row number (unique IDs), as long as needed."""

    def __init__(self, make: Callable[[int], tuple[Cell, Any]]) -> None:
        self.make = make

    def __len__(self) -> int:
        return 1 << 30

    def __getitem__(self, index: int) -> Any:  # type: ignore[override]
        return self.make(index)


def columns(t: str) -> list[Sample]:
    return [_sample(column) for column in COLUMNS[t]]


def _key(header: str) -> str:
    """A header as a printer may vary it: case, a trailing colon, the apostrophe's shape."""
    return header.replace("’", "'").removesuffix(":").lower()


def _by_occurrence(t: str) -> dict[tuple[str, int], Sample]:
    """Each sample column keyed by (header, how many times it was printed before)."""
    out: dict[tuple[str, int], Sample] = {}
    seen: dict[str, int] = {}
    for column in columns(t):
        key = _key(column.header)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out[key, n] = column
    return out


def cell(t: str, header: str, occurrence: int, row: int) -> Cell:
    """The text of row ``row``'s cell under the ``occurrence``-th ``header`` (unknown: made up)."""
    column = _by_occurrence(t).get((_key(header), occurrence))
    if column is None:
        return f"x{row}"
    return column.samples[row % len(column.samples)][0]


def row_cells(
    t: str, pages: Sequence[Sequence[str]], row: int, override: dict[str, Cell] | None = None
) -> list[Cell]:
    """Row ``row``'s cells for the headers of ``pages``, in order; ``override`` by header."""
    out: list[Cell] = []
    seen: dict[str, int] = {}
    for header in itertools.chain.from_iterable(pages):
        n = seen.get(_key(header), 0)
        seen[_key(header)] = n + 1
        if override is not None and header in override:
            out.append(override[header])
        else:
            out.append(cell(t, header, n, row))
    return out


def expected(t: str, row: int, present: set[str] | None = None) -> dict[str, Any]:
    """The field values row ``row`` must parse to; columns not in ``present`` are left out."""
    out: dict[str, Any] = {}
    for column in columns(t):
        if present is not None and column.header not in present:
            continue
        value = column.samples[row % len(column.samples)][1]
        if column.fields:
            out.update(zip(column.fields, value, strict=True))
        elif column.field is not None:
            out[column.field] = value
    return out


def _wrap_header(header: str, limit: int) -> Cell:
    words = header.split(" ")
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines if len(lines) > 1 else header


def sample_pages(
    t: str,
    pages: Sequence[Sequence[str]],
    rows: int,
    *,
    rows_per_page: int = 6,
    override: Callable[[int], dict[str, Cell] | None] | None = None,
) -> list[GridPage]:
    """Grid pages of ``rows`` sample rows of type ``t`` laid out in ``pages`` (cycles).

    Each page's columns share the printable width; headers wrap at spaces.
    """
    widths = [468.0 / len(page) for page in pages]
    bodies = [row_cells(t, pages, i, override(i) if override else None) for i in range(rows)]
    out: list[GridPage] = []
    offsets = [0, *itertools.accumulate(len(page) for page in pages)]

    def height(cell: Cell) -> int:
        return 1 if isinstance(cell, str) else len(cell)

    headers = [
        [_wrap_header(h, max(6, int(width / 5.6))) for h in page]
        for page, width in zip(pages, widths, strict=True)
    ]
    header_lines = max(height(h) for page in headers for h in page)
    for start in range(0, max(rows, 1), rows_per_page):
        chunk = bodies[start : start + rows_per_page]
        lines = [header_lines, *(max(height(c) for c in body) for body in chunk)]
        for number, page in enumerate(headers):
            cells = slice(offsets[number], offsets[number + 1])
            grid_rows = [list(page), *(body[cells] for body in chunk)]
            out.append(GridPage(grid_rows, [widths[number]] * len(page), lines))
    return out


def sample_pdf(
    t: str,
    pages: Sequence[Sequence[str]],
    rows: int = 8,
    style: GridStyle | None = None,
    **options: Any,
) -> bytes:
    """A PDF of :func:`sample_pages`, in :data:`STYLE` unless told."""
    return grid_pdf(sample_pages(t, pages, rows, **options), style or STYLE)


#: small type, so that the spec's widest pages fit the printable width
STYLE = GridStyle(size=7.0, line_height=8.5, row_height=18.0, padding=2.0)


def sample_grid(
    t: str,
    pages: Sequence[Sequence[str]],
    rows: int = 8,
    *,
    width: float | None = None,
    override: Callable[[int], dict[str, Cell] | None] | None = None,
) -> Grid:
    """The sample rows as a :class:`~archid.sim.grid.Grid`, for the other producers of
    :mod:`tests.exports.variants`. Columns share the page's width, or are ``width`` wide
    (narrow ones wrap their headers); a cell's lines are joined with ``\\n``."""
    columns = [
        [GridColumn(header, width or 468.0 / len(page)) for header in page] for page in pages
    ]
    body = [
        [
            "\n".join(c) if not isinstance(c, str) else c
            for c in row_cells(t, pages, i, override(i) if override else None)
        ]
        for i in range(rows)
    ]
    return Grid(columns, body, rows_per_page=6)
