"""The portal's list views: where each export type lives (spec section 1)."""

from archid.records import ExportType

#: list view name of each export type, as the portal's URLs spell them
LIST_VIEWS: dict[ExportType, str] = {
    ExportType.CUSTOMERS: "CUSTTABLE_ListView_Agent",
    ExportType.PRODUCTS: "INVENTTABLE_ListView",
    ExportType.PRICES: "PRICEDISCTABLE_ListView",
    ExportType.ORDERS: "SALESTABLE_ListView_Agent",
    ExportType.DDT: "CUSTPACKINGSLIPJOUR_ListView",
    ExportType.INVOICES: "CUSTINVOICEJOUR_ListView",
}
