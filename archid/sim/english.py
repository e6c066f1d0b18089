"""The portal in English: export file names (spec v2 section 1) and column captions.

The spec knows the English file names but not the English captions; these
are plausible ones made up for the simulator (archid must recognise an
English export, not read it). A caption printed twice in Italian is
printed twice in English too.
"""

from __future__ import annotations

from collections.abc import Mapping

from archid.records import ExportType

FILE_NAMES: Mapping[ExportType, str] = {
    ExportType.CUSTOMERS: "Customers.pdf",
    ExportType.PRODUCTS: "Products.pdf",
    ExportType.PRICES: "Price table.pdf",
    ExportType.ORDERS: "Customer orders.pdf",
    ExportType.DDT: "Packing slip journal.pdf",
    ExportType.INVOICES: "Customer invoice journal.pdf",
}

_COMMON = {
    "ID": "ID",
    "NOME VENDITE:": "SALES NAME:",
    "NOME DI CONSEGNA": "DELIVERY NAME",
    "RIFERIMENTO CLIENTE": "CUSTOMER REF.",
    "DATA DI CONSEGNA": "DELIVERY DATE",
    "ID DI VENDITA": "SALES ORDER",
    "PROFILO CLIENTE:": "ACCOUNT:",
}

CAPTIONS: Mapping[ExportType, Mapping[str, str]] = {
    ExportType.CUSTOMERS: {
        **_COMMON,
        "NOME": "NAME",
        "PARTITA IVA:": "VAT NUMBER:",
        "PEC:": "PEC:",
        "SDI:": "SDI:",
        "CODICE FISCALE:": "TAX CODE:",
        "TERMINI DI CONSEGNA": "DELIVERY TERMS",
        "VIA:": "STREET:",
        "INDIRIZZO LOGISTICO CAP": "ZIP/POSTAL CODE",
        "CITTÀ": "CITY",
        "TELEFONO:": "TELEPHONE:",
        "CELLULARE:": "MOBILE:",
        "URL:": "URL:",
        "ALL’ATTENZIONE DI:": "ATTENTION:",
        "DATA DELL'ULTIMO ORDINE": "LAST ORDER DATE",
        "CONTEGGI DEGLI ORDINI EFFETTIVI": "ACTUAL ORDER COUNTS",
        "TIPO DI CLIENTE": "CUSTOMER TYPE",
        "CONTEGGIO DEGLI ORDINI PRECEDENTE": "PREVIOUS ORDER COUNT",
        "VENDITE PRECEDENTE": "PREVIOUS SALES",
        "CONTEGGIO DEGLI ORDINI PRECEDENTE 2": "PREVIOUS ORDER COUNT 2",
        "DESCRIZIONE:": "DESCRIPTION:",
        "TYPE:": "TYPE:",
        "NUMERO DI CONTO ESTERNO": "EXTERNAL ACCOUNT",
        "IL NOSTRO NUMERO DI CONTO": "OUR ACCOUNT NUMBER",
    },
    ExportType.PRODUCTS: {
        **_COMMON,
        "ID ARTICOLO": "ITEM NUMBER",
        "NOME ARTICOLO:": "ITEM NAME:",
        "DESCRIZIONE": "DESCRIPTION",
        "GRUPPO ARTICOLO:": "ITEM GROUP:",
        "IMMAGINE:": "IMAGE:",
        "CONTENUTO DELL'IMBALLAGGIO": "PACKING CONTENT",
        "NOME DELLA RICERCA": "SEARCH NAME",
        "UNITÀ DI PREZZO:": "PRICE UNIT:",
        "ID GRUPPO DI PRODOTTI": "PRODUCT GROUP ID",
        "DESCRIZIONE GRUPPO ARTICOLO:": "ITEM GROUP NAME:",
        "QTÀ MINIMA:": "MIN. QTY:",
        "QTÀ MULTIPLI:": "MULTI QTY:",
        "QTÀ MASSIMA:": "MAX. QTY:",
        "FIGURA:": "FIGURE:",
        "DATAAREAID": "DATAAREAID",
        "DATETIME MODIFICATO": "MODIFIED DATETIME",
        "FERMATO": "STOPPED",
        "ID IN BLOCCO DELL'ARTICOLO": "ITEM BLOCKING ID",
        "PACCO": "PACK",
        "GAMBA": "SHANK",
        "GRANDEZZA": "SIZE",
        "ID DI CONFIGURAZIONE": "CONFIGURATION ID",
        "CREATO DA:": "CREATOR:",
        "DATA CREATA": "CREATED DATE",
        "QTÀ PREDEFINITA:": "DEFAULT QTY:",
        "VISUALIZZA IL NUMERO DI PRODOTTO": "DISPLAY PRODUCT NUMBER",
        "SCONTO ASSOLUTO TOTALE:": "TOTAL DISCOUNT:",
        "SCONTO LINEA": "LINE DISC.",
        "MODIFICATO DA:": "MODIFIED BY:",
        "ARTICOLO ORDINABILE:": "ORDERABLE ITEM:",
        "PURCH PRICE PCS": "PURCH PRICE PCS",
        "ID DI CONFIGURAZIONE STANDARD": "STANDARD CONFIGURATION ID",
        "QTÀ STANDARD:": "STANDARD QTY:",
        "ID ELEMENTO IVAID": "ITEM SALES TAX ID",
        "ID UNITÀ": "UNIT ID",
    },
    ExportType.PRICES: {
        **_COMMON,
        "CODICE CONTO": "ACC. CODE",
        "ACCOUNT:": "ACCOUNT:",
        "DESCRIZIONE ACCOUNT:": "ACCOUNT NAME:",
        "ITEM SELECTION:": "ITEM SELECTION:",
        "ITEM DESCRIPTION:": "ITEM DESCRIPTION:",
        "DA DATA": "FROM DATE",
        "DATA": "TO DATE",
        "QUANTITÀIMPORTODA": "FROM QUANTITY",
        "QUANTITÀIMPORTO": "TO QUANTITY",
        "UNITÀ DI PREZZO": "PRICE UNIT",
        "IMPORTO UNITARIO:": "UNIT PRICE:",
        "VALUTA": "CURR.",
        "PREZZO NETTO BRASSELER": "NET PRICE",
    },
    ExportType.ORDERS: {
        **_COMMON,
        "INDIRIZZO DI CONSEGNA": "DELIVERY ADDRESS",
        "DATA DI CREAZIONE": "CREATED DATE",
        "RIMANI VENDITE FINANZIARIE": "CUSTOMER REQUISITION",
        "STATO DELLE VENDITE": "SALES STATUS",
        "TIPO DI ORDINE": "ORDER TYPE",
        "STATO DEL DOCUMENTO": "DOCUMENT STATUS",
        "ORIGINE VENDITE:": "SALES ORIGIN:",
        "STATO DEL TRASFERIMENTO": "TRANSFER STATUS",
        "DATA DI TRASFERIMENTO": "TRANSFER DATE",
        "DATA DI COMPLETAMENTO": "COMPLETION DATE",
        "PREVENTIVO:": "QUOTATION:",
        "APPLICA SCONTO %:": "DISCOUNT %:",
        "IMPORTO LORDO:": "GROSS AMOUNT:",
        "IMPORTO TOTALE": "TOTAL AMOUNT",
        "ORDINE OMAGGIO:": "FREE ORDER:",
        "E-MAIL": "E-MAIL",
    },
    ExportType.DDT: {
        **_COMMON,
        "PDF DDT": "PDF",
        "DOCUMENTO DI TRASPORTO:": "PACKING SLIP:",
        "CONTO DELL'ORDINE": "ORDER ACCOUNT",
        "TOTALE": "TOTAL",
        "DESCRIZIONE:": "DESCRIPTION:",
        "NUMERO DI TRACCIABILITÀ": "TRACKING NUMBER",
        "TERMINI DI CONSEGNA:": "DELIVERY TERMS:",
        "MODALITÀ DI CONSEGNA": "MODE OF DELIVERY",
        "ALL'ATTENZIONE DI": "ATTENTION",
        "CITTÀ DI CONSEGNA": "DELIVERY CITY",
        "PESO LORDO:": "GROSS WEIGHT:",
        "NUMERO DI COLLI": "PACKAGES",
        "VETTORE ESTERNO": "CARRIER",
    },
    ExportType.INVOICES: {
        **_COMMON,
        "FATTURA PDF": "INVOICE PDF",
        "ID FATTURA": "INVOICE",
        "DATA FATTURA": "INVOICE DATE",
        "CONTO FATTURE": "ACCOUNT",
        "NOME DI FATTURAZIONE": "INVOICE NAME",
        "QUANTITÀ": "QUANTITY",
        "SALDO VENDITE MST": "SALES BALANCE",
        "SOMMA LINEA SCONTO MST": "LINE DISCOUNT SUM",
        "SCONTO TOTALE:": "DISCOUNT:",
        "SOMMA FISCALE MST": "SALES TAX SUM",
        "IMPORTO FATTURA MST": "INVOICE AMOUNT",
        "ORDINE DI ACQUISTO": "PURCHASE ORDER",
        "SCADENZA": "DUE DATE",
        "ID TERMINE DI PAGAMENTO": "TERMS OF PAYMENT",
        "OLTRE I GIORNI DI SCADENZA": "DAYS PAST DUE",
        "LIQUIDA IMPORTO MST": "SETTLED AMOUNT",
        "IDENTIFICATIVO ULTIMO PAGAMENTO:": "LAST PAYMENT ID:",
        "DATA DI ULTIMA LIQUIDAZIONE": "LAST SETTLEMENT DATE",
        "CHIUSO": "CLOSED",
        "IMPORTO RIMANENTE MST": "REMAINING AMOUNT",
        "ID VENDITE": "SALES ORDER",
    },
}


#: captions of the grids' columns outside the export layouts
_EXTRA: Mapping[str, str] = {
    "CITTA DI FATTURAZIONE": "BILLING CITY",
    "GIORNI DI ESCLUSIVITÀ RIMANENTI": "EXCLUSIVITY DAYS LEFT",
    "FINE ESCLUSIVA": "EXCLUSIVITY END",
    "INIZIO ESCLUSIVA IN ANTEPRIMA": "EXCLUSIVITY PREVIEW START",
    "PREVISIONI ESCLUSIVE": "EXCLUSIVE FORECAST",
    "VENDITE IN ESCLUSIVA": "EXCLUSIVE SALES",
    "NUMERO MECCANOGRAFICO (FNOMCEO)": "FNOMCEO NUMBER",
}


def caption(t: ExportType, header: str) -> str:
    """The English caption of the Italian ``header`` of ``t``; ``KeyError`` if unknown."""
    known = CAPTIONS[t].get(header)
    return known if known is not None else _EXTRA[header]
