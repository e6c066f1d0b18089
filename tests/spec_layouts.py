"""The export layouts exactly as spec v2 section 2 prints them, typed out by hand.

An independent check of the simulator's layouts and of the parsers'
declarations: nothing here is imported from ``archid``. ``’`` is U+2019,
as printed on the customers export next to straight apostrophes.

:data:`EPOCH_HEADERS` holds one entry per layout epoch the simulator
serves (``2026-01`` and ``2026-03``), each with every column a session can
show; :data:`FRESH_PRODUCTS` is the products export of a fresh session
(columns hidden) as the simulator prints it, and :data:`DDT_UNKNOWN_PAGE`
the DDT's seventh page of March 2026, whose contents the spec does not
know: the simulator makes up its headers, which archid must ignore.
"""

_CUSTOMERS_FIRST = [
    ["ID", "PROFILO CLIENTE:", "NOME", "PARTITA IVA:"],
    ["PEC:", "SDI:", "CODICE FISCALE:", "TERMINI DI CONSEGNA"],
    ["VIA:", "INDIRIZZO LOGISTICO CAP", "CITTÀ"],
]

_CUSTOMERS_2026_01 = [
    *_CUSTOMERS_FIRST,
    ["TELEFONO:", "CELLULARE:", "URL:", "ALL’ATTENZIONE DI:", "DATA DELL'ULTIMO ORDINE"],
    ["CONTEGGI DEGLI ORDINI EFFETTIVI", "TIPO DI CLIENTE", "CONTEGGIO DEGLI ORDINI PRECEDENTE"],
    ["VENDITE PRECEDENTE", "CONTEGGIO DEGLI ORDINI PRECEDENTE 2", "VENDITE PRECEDENTE"],
    ["DESCRIZIONE:", "TYPE:", "NUMERO DI CONTO ESTERNO"],
    ["IL NOSTRO NUMERO DI CONTO"],
]

_CUSTOMERS_2026_03 = [
    *_CUSTOMERS_FIRST,
    ["TELEFONO:", "CELLULARE:", "URL:", "ALL’ATTENZIONE DI:"],
    ["DATA DELL'ULTIMO ORDINE", "CONTEGGI DEGLI ORDINI EFFETTIVI", "TIPO DI CLIENTE"],
    ["CONTEGGIO DEGLI ORDINI PRECEDENTE", "VENDITE PRECEDENTE"],
    ["CONTEGGIO DEGLI ORDINI PRECEDENTE 2", "VENDITE PRECEDENTE"],
    ["DESCRIZIONE:", "TYPE:", "NUMERO DI CONTO ESTERNO"],
    ["IL NOSTRO NUMERO DI CONTO"],
]

_PRODUCTS_FIRST = [
    ["ID ARTICOLO", "NOME ARTICOLO:", "DESCRIZIONE"],
    ["GRUPPO ARTICOLO:", "IMMAGINE:", "CONTENUTO DELL'IMBALLAGGIO", "NOME DELLA RICERCA"],
    ["UNITÀ DI PREZZO:", "ID GRUPPO DI PRODOTTI", "DESCRIZIONE GRUPPO ARTICOLO:", "QTÀ MINIMA:"],
]

# The spec gives January's grouping only by its first and last columns;
# the simulator's fill-in is this one (any grouping must parse the same).
# DATETIME MODIFICATO sits on page 5: on page 8 the six headers would not
# fit the page's width on one line each.
_PRODUCTS_2026_01 = [
    *_PRODUCTS_FIRST,
    [
        "QTÀ MULTIPLI:",
        "QTÀ MASSIMA:",
        "FIGURA:",
        "ID IN BLOCCO DELL'ARTICOLO",
        "PACCO",
        "GAMBA",
    ],
    ["GRANDEZZA", "ID DI CONFIGURAZIONE", "CREATO DA:", "DATETIME MODIFICATO", "DATAAREAID"],
    ["QTÀ PREDEFINITA:", "VISUALIZZA IL NUMERO DI PRODOTTO", "DATA CREATA", "ID"],
    ["SCONTO LINEA", "SCONTO ASSOLUTO TOTALE:", "MODIFICATO DA:", "ARTICOLO ORDINABILE:"],
    [
        "PURCH PRICE PCS",
        "ID DI CONFIGURAZIONE STANDARD",
        "QTÀ STANDARD:",
        "FERMATO",
        "ID UNITÀ",
    ],
]

_PRODUCTS_2026_03 = [
    *_PRODUCTS_FIRST,
    ["QTÀ MULTIPLI:", "QTÀ MASSIMA:", "FIGURA:", "DATAAREAID", "ID", "DATETIME MODIFICATO"],
    [
        "FERMATO",
        "ID IN BLOCCO DELL'ARTICOLO",
        "PACCO",
        "GAMBA",
        "GRANDEZZA",
        "ID DI CONFIGURAZIONE",
    ],
    ["CREATO DA:", "DATA CREATA", "QTÀ PREDEFINITA:", "VISUALIZZA IL NUMERO DI PRODOTTO"],
    ["SCONTO ASSOLUTO TOTALE:", "SCONTO LINEA", "MODIFICATO DA:", "ARTICOLO ORDINABILE:"],
    ["PURCH PRICE PCS", "ID DI CONFIGURAZIONE STANDARD", "QTÀ STANDARD:", "ID ELEMENTO IVAID"],
    ["ID UNITÀ"],
]

#: a fresh session's products export (2026-03): 18 columns, 5 pages
FRESH_PRODUCTS = [
    ["ID ARTICOLO", "NOME ARTICOLO:", "DESCRIZIONE"],
    ["GRUPPO ARTICOLO:", "CONTENUTO DELL'IMBALLAGGIO", "NOME DELLA RICERCA"],
    ["UNITÀ DI PREZZO:", "QTÀ MINIMA:", "QTÀ MULTIPLI:", "QTÀ MASSIMA:"],
    ["ID", "DATETIME MODIFICATO", "FERMATO", "DATA CREATA"],
    ["PURCH PRICE PCS", "QTÀ STANDARD:", "ARTICOLO ORDINABILE:", "ID UNITÀ"],
]

_PRICES = [
    ["ID", "CODICE CONTO", "ACCOUNT:", "DESCRIZIONE ACCOUNT:", "ITEM SELECTION:"],
    ["ITEM DESCRIPTION:", "DA DATA", "DATA", "QUANTITÀIMPORTODA"],
    ["QUANTITÀIMPORTO", "UNITÀ DI PREZZO", "IMPORTO UNITARIO:", "VALUTA", "PREZZO NETTO BRASSELER"],
]

_ORDERS_2026_01 = [
    ["ID", "ID DI VENDITA", "PROFILO CLIENTE:", "NOME VENDITE:"],
    ["NOME DI CONSEGNA", "INDIRIZZO DI CONSEGNA"],
    ["DATA DI CREAZIONE", "DATA DI CONSEGNA", "RIMANI VENDITE FINANZIARIE"],
    ["RIFERIMENTO CLIENTE", "STATO DELLE VENDITE", "TIPO DI ORDINE", "STATO DEL DOCUMENTO"],
    ["ORIGINE VENDITE:", "STATO DEL TRASFERIMENTO", "DATA DI TRASFERIMENTO"],
    ["DATA DI COMPLETAMENTO", "PREVENTIVO:", "APPLICA SCONTO %:", "IMPORTO LORDO:"],
    ["IMPORTO TOTALE", "ORDINE OMAGGIO:"],
]

_ORDERS_2026_03 = [*_ORDERS_2026_01[:-1], ["IMPORTO TOTALE", "ORDINE OMAGGIO:", "E-MAIL"]]

_DDT_2026_01 = [
    ["PDF DDT", "ID", "DOCUMENTO DI TRASPORTO:", "DATA DI CONSEGNA", "ID DI VENDITA"],
    ["CONTO DELL'ORDINE", "NOME VENDITE:"],
    ["NOME DI CONSEGNA", "NOME DI CONSEGNA"],
    ["TOTALE", "RIFERIMENTO CLIENTE", "DESCRIZIONE:"],
    ["NUMERO DI TRACCIABILITÀ", "TERMINI DI CONSEGNA:"],
    ["MODALITÀ DI CONSEGNA", "ALL'ATTENZIONE DI", "CITTÀ DI CONSEGNA"],
]

#: the DDT's seventh page from March 2026: columns archid does not know
DDT_UNKNOWN_PAGE = ["PESO LORDO:", "NUMERO DI COLLI", "VETTORE ESTERNO"]

_DDT_2026_03 = [*_DDT_2026_01, DDT_UNKNOWN_PAGE]

#: invoices with ID VENDITE switched on in the column chooser
_INVOICES = [
    ["FATTURA PDF", "ID FATTURA", "DATA FATTURA", "CONTO FATTURE"],
    ["NOME DI FATTURAZIONE", "QUANTITÀ", "SALDO VENDITE MST"],
    ["SOMMA LINEA SCONTO MST", "SCONTO TOTALE:", "SOMMA FISCALE MST", "IMPORTO FATTURA MST"],
    ["ORDINE DI ACQUISTO", "RIFERIMENTO CLIENTE", "SCADENZA"],
    ["ID TERMINE DI PAGAMENTO", "OLTRE I GIORNI DI SCADENZA"],
    ["LIQUIDA IMPORTO MST", "IDENTIFICATIVO ULTIMO PAGAMENTO:", "DATA DI ULTIMA LIQUIDAZIONE"],
    ["CHIUSO", "IMPORTO RIMANENTE MST", "ID VENDITE"],
]

#: invoices of a session that did not switch ID VENDITE on
INVOICES_WITHOUT_ORDER = [*_INVOICES[:-1], ["CHIUSO", "IMPORTO RIMANENTE MST"]]

EPOCHS = ("2026-01", "2026-03")
"""The layout epochs the simulator serves, oldest first; the last is the default."""

EPOCH_HEADERS: dict[str, dict[str, list[list[str]]]] = {
    "2026-01": {
        "customers": _CUSTOMERS_2026_01,
        "products": _PRODUCTS_2026_01,
        "prices": _PRICES,
        "orders": _ORDERS_2026_01,
        "ddt": _DDT_2026_01,
        "invoices": _INVOICES,
    },
    "2026-03": {
        "customers": _CUSTOMERS_2026_03,
        "products": _PRODUCTS_2026_03,
        "prices": _PRICES,
        "orders": _ORDERS_2026_03,
        "ddt": _DDT_2026_03,
        "invoices": _INVOICES,
    },
}

#: the newest layout: what the simulator serves by default
SPEC_HEADERS: dict[str, list[list[str]]] = EPOCH_HEADERS[EPOCHS[-1]]

#: the export file names the portal gives each type (spec section 1)
FILE_NAMES: dict[str, str] = {
    "customers": "Clienti.pdf",
    "products": "Prodotti.pdf",
    "prices": "Tabella prezzi.pdf",
    "orders": "Ordini.pdf",
    "ddt": "Documenti di trasporto.pdf",
    "invoices": "Fatture.pdf",
}

#: the English locale's file names (spec section 1)
ENGLISH_FILE_NAMES: dict[str, str] = {
    "customers": "Customers.pdf",
    "products": "Products.pdf",
    "prices": "Price table.pdf",
    "orders": "Customer orders.pdf",
    "ddt": "Packing slip journal.pdf",
    "invoices": "Customer invoice journal.pdf",
}

#: the list view of each type (spec section 1)
LIST_VIEWS: dict[str, str] = {
    "customers": "CUSTTABLE_ListView_Agent",
    "products": "INVENTTABLE_ListView",
    "prices": "PRICEDISCTABLE_ListView",
    "orders": "SALESTABLE_ListView_Agent",
    "ddt": "CUSTPACKINGSLIPJOUR_ListView",
    "invoices": "CUSTINVOICEJOUR_ListView",
}
