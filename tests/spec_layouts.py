"""The export layouts exactly as spec section 2 writes them, typed out by hand.

An independent check of the simulator's layouts (and later of the parsers'
declarations): nothing here is imported from ``archid``.
"""

SPEC_HEADERS: dict[str, list[list[str]]] = {
    "customers": [
        ["ID", "PROFILO CLIENTE", "NOME", "PARTITA IVA"],
        ["PEC", "SDI", "CODICE FISCALE", "TERMINI DI CONSEGNA"],
        ["VIA", "INDIRIZZO LOGISTICO CAP", "CITTÀ"],
        ["TELEFONO", "CELLULARE", "URL", "ALL'ATTENZIONE DI"],
        ["DATA DELL'ULTIMO ORDINE", "CONTEGGI DEGLI ORDINI EFFETTIVI", "TIPO DI CLIENTE"],
        ["CONTEGGIO DEGLI ORDINI PRECEDENTE", "VENDITE PRECEDENTE"],
        ["CONTEGGIO DEGLI ORDINI PRECEDENTE2", "VENDITE PRECEDENTE2"],
        ["DESCRIZIONE", "TYPE", "NUMERO DI CONTO ESTERNO"],
        ["IL NOSTRO NUMERO DI CONTO"],
    ],
    "products": [
        ["ID ARTICOLO", "NOME ARTICOLO", "DESCRIZIONE"],
        ["GRUPPO ARTICOLO", "IMMAGINE", "CONTENUTO DELL'IMBALLAGGIO", "NOME DELLA RICERCA"],
        ["UNITÀ DI PREZZO", "ID GRUPPO DI PRODOTTI", "DESCRIZIONE GRUPPO ARTICOLO", "QTÀ MINIMA"],
        ["QTÀ MULTIPLI", "QTÀ MASSIMA", "FIGURA", "DATAAREAID", "ID", "DATETIME MODIFICATO"],
        ["FERMATO", "ID IN BLOCCO ARTICOLO", "PACCO", "GAMBA", "GRANDEZZA", "ID CONFIGURAZIONE"],
        ["CREATO DA", "DATA CREATA", "QTÀ PREDEFINITA", "VISUALIZZA NUMERO PRODOTTO"],
        ["SCONTO ASSOLUTO TOTALE", "SCONTO LINEA", "MODIFICATO DA", "ARTICOLO ORDINABILE"],
        ["PURCH PRICE", "PCS ID CONFIGURAZIONE STANDARD", "QTÀ STANDARD", "ID ELEMENTO IVAID"],
        ["ID UNITÀ"],
    ],
    "prices": [
        ["ID", "CODICE CONTO", "ACCOUNT:", "DESCRIZIONE ACCOUNT:", "ITEM SELECTION:"],
        ["ITEM DESCRIPTION:", "DA DATA", "DATA", "QUANTITÀ"],
        ["QUANTITÀ", "UNITÀ DI PREZZO", "IMPORTO UNITARIO:", "VALUTA", "PREZZO NETTO BRASSELER"],
    ],
    "orders": [
        ["ID", "ID DI VENDITA", "PROFILO CLIENTE:", "NOME VENDITE:"],
        ["NOME DI CONSEGNA", "INDIRIZZO DI CONSEGNA"],
        ["DATA DI CREAZIONE", "DATA DI CONSEGNA", "RIMANI VENDITE FINANZIARIE"],
        ["RIFERIMENTO CLIENTE", "STATO DELLE VENDITE", "TIPO DI ORDINE", "STATO DEL DOCUMENTO"],
        ["ORIGINE VENDITE:", "STATO DEL TRASFERIMENTO", "DATA DI TRASFERIMENTO"],
        ["DATA DI COMPLETAMENTO", "PREVENTIVO:", "APPLICA SCONTO %:", "IMPORTO LORDO:"],
        ["IMPORTO TOTALE", "ORDINE OMAGGIO:"],
    ],
    "ddt": [
        ["PDF DDT", "ID", "DOCUMENTO DI TRASPORTO:", "DATA DI CONSEGNA", "ID DI VENDITA"],
        ["CONTO DELL'ORDINE", "NOME VENDITE:"],
        ["NOME DI CONSEGNA", "NOME DI CONSEGNA"],
        ["TOTALE", "RIFERIMENTO CLIENTE", "DESCRIZIONE:"],
        ["NUMERO DI TRACCIABILITÀ", "TERMINI DI CONSEGNA:"],
        ["MODALITÀ DI CONSEGNA", "ALL'ATTENZIONE DI", "CITTÀ DI CONSEGNA"],
    ],
    "invoices": [
        ["FATTURA PDF", "ID FATTURA", "DATA FATTURA", "CONTO FATTURE"],
        ["NOME DI FATTURAZIONE", "QUANTITÀ", "SALDO VENDITE MST"],
        ["SOMMA LINEA SCONTO MST", "SCONTO TOTALE:", "SOMMA FISCALE MST", "IMPORTO FATTURA MST"],
        ["ORDINE DI ACQUISTO", "RIFERIMENTO CLIENTE", "SCADENZA"],
        ["ID TERMINE DI PAGAMENTO", "OLTRE I GIORNI DI SCADENZA"],
        ["LIQUIDA IMPORTO MST", "IDENTIFICATIVO ULTIMO PAGAMENTO:", "DATA DI ULTIMA LIQUIDAZIONE"],
        ["CHIUSO", "IMPORTO RIMANENTE MST", "ID VENDITE"],
    ],
}

#: the export file names the portal gives each type (spec section 1)
FILE_NAMES: dict[str, str] = {
    "customers": "Clienti.pdf",
    "products": "Prodotti.pdf",
    "prices": "Tabella prezzi.pdf",
    "orders": "Ordini.pdf",
    "ddt": "Documenti di trasporto.pdf",
    "invoices": "Fatture.pdf",
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
