"""The simulator's ground truth: the records of all six exports, and changes to them.

:meth:`Dataset.generate` builds a plausible, internally consistent portal
from a seed and a scale; ``scale=1`` matches the real portal's volumes
(1,515 customers, about 4,540 products, 4,976 prices, about 1,000 orders,
1,132 DDT, about 130 invoices). Generation is deterministic for
``(seed, scale)`` in every process.

The records are the canonical records of :mod:`archid.records`, exactly what
a correct parser yields from a *full* export (see
:data:`archid.sim.layouts.FULL_VIEW`), in export order. Links hold after
generation: an order's ``customer_profile`` is an existing customer's
profile, DDT and invoices point at existing orders' ``sales_id``, invoices'
``account`` is the customer's ``external_account``, and prices'
``item_selection`` is an existing product. Mutations keep links where it is
cheap (new orders, DDT, invoices and prices point at existing records) but
never cascade: deleting a customer leaves its orders in place, as the portal
does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from archid.records import (
    RECORD_TYPES,
    Customer,
    Ddt,
    ExportType,
    Invoice,
    Order,
    Price,
    Product,
    Record,
    record_key,
)
from archid.sim import italian

#: Counts at ``scale=1``, from the real portal (spec section 2).
BASE_COUNTS: Mapping[ExportType, int] = {
    ExportType.CUSTOMERS: 1515,
    ExportType.PRODUCTS: 4540,
    ExportType.PRICES: 4976,
    ExportType.ORDERS: 1000,
    ExportType.DDT: 1132,
    ExportType.INVOICES: 130,
}
#: Fewest records of each type at any scale, so small datasets still exercise everything.
MIN_COUNT = 5
#: The portal's "today": orders span the year before it.
TODAY = date(2026, 3, 20)
#: The far date the portal writes for an open-ended price validity.
OPEN_END = date(2154, 12, 31)

CARRIERS: Mapping[str, tuple[str, str]] = {
    # delivery mode → (link text word, tracking URL template)
    "FedEx": ("fedex", "https://www.fedex.com/fedextrack/?trknbr={}&locale=it_IT"),
    "UPS": ("ups", "https://www.ups.com/track?loc=it_IT&tracknum={}"),
    "DHL": ("dhl", "https://www.dhl.com/it-it/home/tracking.html?tracking-id={}"),
    "GLS": ("gls", "https://www.gls-italy.com/it/servizi-online/ricerca-spedizioni?match={}"),
    "BRT": ("brt", "https://vas.brt.it/vas/sped_det_show.hsm?Nspediz={}"),
    "SDA": ("sda", "https://www.sda.it/wps/portal/Servizi_online/ricerca_spedizioni?ldv={}"),
    "TNT": ("tnt", "https://www.tnt.it/tracking/getTrack.html?wt=1&consigNos={}"),
}
PAYMENT_TERMS = (
    "201 BONIF. BANC. 60 GG.DFFM",
    "201 BONIF. BANC. 60 GG.DFFM",
    "202 BONIF. BANC. 30 GG.DFFM",
    "101 RI.BA. 30-60 GG.DFFM",
    "001 RIMESSA DIRETTA",
)
DELIVERY_TERMS = ("Porto franco", "Porto franco", "Porto assegnato", "Franco destino", "DAP")
_FAMILY_NAMES = {
    "Fresa in carburo di tungsteno": ("FRESA CT", "FCT", "Frese in carburo di tungsteno"),
    "Fresa diamantata": ("DIAMANTATA", "FDIA", "Frese diamantate per turbina e contrangolo"),
    "Fresa in ceramica": ("CERAMICA", "FCER", "Frese in ceramica"),
    "Gommino per lucidatura": ("GOMMINO", "GLUC", "Gommini e strumenti per lucidatura"),
}
_SHANK_SHORT = {"104": "HP", "204": "RA", "205": "RAL", "313": "FGS", "314": "FG", "315": "FGL"}
_ORDER_NOTES = (
    "Ordine agente",
    "Riassortimento frese studio",
    "Campionatura kit endodonzia",
    "Ordine telefonico del cliente, consegna urgente entro fine settimana se possibile",
    "Promozione primavera 2026: sconto su frese diamantate e gommini per lucidatura",
)
_CENT = Decimal("0.01")
#: Where an order is in its life; decides its statuses, DDT and invoices.
Stage = Literal["draft", "pending", "open", "delivered", "invoiced"]


@dataclass(frozen=True, slots=True)
class Change:
    """One change made to a :class:`Dataset`: the record before and after it.

    ``before`` is ``None`` for an add, ``after`` is ``None`` for a delete.
    """

    op: Literal["add", "update", "delete"]
    type: ExportType
    key: str
    before: Record | None
    after: Record | None


class Dataset:
    """The records of all six export types, keyed and in export order.

    ``version`` starts at 0 and grows by one per elementary change (each
    add, update or delete, including each one :meth:`mutate` makes).
    ``fingerprint`` is a 16-hex-digit digest of the exact content: equal
    content gives an equal fingerprint in any process, so it is a cache key
    for rendered exports.
    """

    def __init__(self, tables: Mapping[ExportType, Iterable[Record]] | None = None) -> None:
        """A dataset holding ``tables`` (missing types are empty); raises ``ValueError``
        on a duplicate key and ``TypeError`` on a record of the wrong type."""
        self.version = 0
        self._tables: dict[ExportType, dict[str, Record]] = {t: {} for t in ExportType}
        self._digests: dict[ExportType, bytes] = {}
        for t, records in (tables or {}).items():
            for record in records:
                self._insert(t, record)

    @classmethod
    def generate(cls, seed: int, scale: float = 1.0) -> Dataset:
        """A consistent portal with ``BASE_COUNTS`` multiplied by ``scale`` (each at
        least ``MIN_COUNT``), fully determined by ``(seed, scale)``."""
        if scale <= 0:
            raise ValueError(f"scale must be positive, not {scale}")
        return _Generator(random.Random(f"archid-sim:{seed}:{scale!r}"), scale).build()

    # -- reading -----------------------------------------------------------

    def records(self, t: ExportType) -> list[Record]:
        """The records of ``t`` in export order (a new list)."""
        return list(self._tables[t].values())

    def get(self, t: ExportType, key: str) -> Record:
        """The record of ``t`` under ``key``; raises ``KeyError``."""
        return self._tables[t][key]

    def __contains__(self, item: tuple[ExportType, str]) -> bool:
        t, key = item
        return key in self._tables[t]

    def count(self, t: ExportType) -> int:
        """How many records ``t`` holds."""
        return len(self._tables[t])

    @property
    def fingerprint(self) -> str:
        """A short stable digest of the whole content (see the class docstring)."""
        digest = hashlib.blake2b(digest_size=8)
        for t in ExportType:
            if t not in self._digests:
                table = hashlib.blake2b(digest_size=16)
                for record in self._tables[t].values():
                    # repr of these frozen dataclasses is stable across processes
                    table.update(repr(record).encode())
                    table.update(b"\n")
                self._digests[t] = table.digest()
            digest.update(t.value.encode() + self._digests[t])
        return digest.hexdigest()

    # -- changing ----------------------------------------------------------

    def add(self, t: ExportType, record: Record) -> Record:
        """Append ``record`` to ``t``; raises ``ValueError`` if its key exists."""
        self._insert(t, record)
        self._changed(t)
        return record

    def update(self, t: ExportType, key: str, **changes: Any) -> Record:
        """Replace fields of the record under ``key`` and return the new record.

        Raises ``KeyError`` for an unknown key, ``ValueError`` for an unknown
        field or a key change onto an existing key. The record keeps its place.
        """
        table = self._tables[t]
        old = table[key]
        names = {f.name for f in dataclasses.fields(old)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"{type(old).__name__} has no fields {sorted(unknown)}")
        new = dataclasses.replace(old, **changes)
        new_key = record_key(new)
        if new_key != key:
            if new_key in table:
                raise ValueError(f"{t}: key {new_key!r} already exists")
            # rebuild to keep the record's position under its new key
            self._tables[t] = {new_key if k == key else k: v for k, v in table.items()}
        self._tables[t][new_key] = new
        self._changed(t)
        return new

    def delete(self, t: ExportType, key: str) -> Record:
        """Remove and return the record under ``key``; raises ``KeyError``."""
        record = self._tables[t].pop(key)
        self._changed(t)
        return record

    def mutate(self, t: ExportType, rng_seed: int, n: int) -> list[Change]:
        """Make ``n`` random plausible changes to ``t`` (adds, updates, deletes).

        Deterministic for the dataset's content, ``rng_seed`` and ``n``.
        Returns the changes in the order they were made.
        """
        rng = random.Random(f"archid-mutate:{t.value}:{rng_seed}:{self.fingerprint}")
        maker = _Maker(rng, self)
        changes: list[Change] = []
        for _ in range(n):
            keys = list(self._tables[t])
            roll = rng.random()
            if not keys or roll < 0.4:
                record = maker.new_record(t)
                self.add(t, record)
                changes.append(Change("add", t, record_key(record), None, record))
            elif roll < 0.8:
                key = rng.choice(keys)
                before = self._tables[t][key]
                after = self.update(t, key, **maker.changes_for(before))
                changes.append(Change("update", t, key, before, after))
            else:
                key = rng.choice(keys)
                before = self.delete(t, key)
                changes.append(Change("delete", t, key, before, None))
        return changes

    def _insert(self, t: ExportType, record: Record) -> None:
        if not isinstance(record, RECORD_TYPES[t]):
            raise TypeError(f"{t} holds {RECORD_TYPES[t].__name__}, not {type(record).__name__}")
        key = record_key(record)
        if key in self._tables[t]:
            raise ValueError(f"{t}: key {key!r} already exists")
        self._tables[t][key] = record

    def _changed(self, t: ExportType) -> None:
        self.version += 1
        self._digests.pop(t, None)


# -- generation --------------------------------------------------------------


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2))).quantize(_CENT)


def _moment(rng: random.Random, day: date) -> datetime:
    """A working-hours moment on ``day``."""
    return datetime.combine(day, time(8, 0)) + timedelta(seconds=rng.randrange(10 * 3600))


def _maybe(rng: random.Random, p: float, value: str) -> str | None:
    return value if rng.random() < p else None


def _city_of(name: str | None) -> italian.City:
    for entry in italian.CITIES:
        if entry.name == name:
            return entry
    return italian.CITIES[0]


class _Maker:
    """Builds single plausible records, drawing fresh keys that ``dataset`` lacks."""

    def __init__(self, rng: random.Random, dataset: Dataset) -> None:
        self.rng = rng
        self.dataset = dataset
        self._used: dict[str, set[str]] = {}
        self._index: dict[str | None, Customer] = {}
        self._index_stamp: tuple[int, int] | None = None

    def fresh_number(self, space: str, low: int, high: int, taken: Callable[[str], bool]) -> str:
        """A number in ``[low, high)`` that is neither ``taken`` nor already drawn."""
        used = self._used.setdefault(space, set())
        while True:
            candidate = str(self.rng.randrange(low, high))
            if candidate not in used and not taken(candidate):
                used.add(candidate)
                return candidate

    def _taken(self, t: ExportType) -> Callable[[str], bool]:
        return lambda key: (t, key) in self.dataset

    # -- customers --

    def customer(self, id_: str, profile: str, account: str) -> Customer:
        rng = self.rng
        name, is_company = italian.practice_name(rng)
        where = italian.city(rng)
        vat = italian.partita_iva(rng) if is_company or rng.random() < 0.93 else None
        first, last, female = italian.person(rng)
        if is_company and vat is not None:
            fiscal: str | None = vat
        else:
            fiscal = italian.codice_fiscale(
                first, last, italian.birth_date(rng), female=female, where=where
            )
        roll = rng.random()
        return Customer(
            id=id_,
            profile=profile,
            name=name,
            vat_number=vat,
            pec=italian.pec(rng, name) if rng.random() < 0.85 else None,
            sdi=italian.sdi_code(rng) if rng.random() < 0.9 else None,
            fiscal_code=fiscal,
            delivery_terms=_maybe(rng, 0.8, rng.choice(DELIVERY_TERMS)),
            street=italian.street(rng),
            postal_code=italian.postal_code(rng, where),
            city=where.name,
            phone=italian.phone(rng, where) if rng.random() < 0.9 else None,
            mobile=italian.mobile(rng) if rng.random() < 0.5 else None,
            url=f"www.{italian.slug(last)}dental.it" if rng.random() < 0.15 else None,
            attention_to=f"{first} {last}" if rng.random() < 0.35 else None,
            last_order_date=None,
            order_count=0,
            sales_amount=Decimal("0.00"),
            previous_order_count=rng.randint(0, 30) if roll < 0.7 else None,
            previous_sales=_money(rng, 0, 15000) if roll < 0.7 else None,
            previous_order_count_2=rng.randint(0, 30) if roll < 0.5 else None,
            previous_sales_2=_money(rng, 0, 15000) if roll < 0.5 else None,
            description=_maybe(rng, 0.4, "Laboratorio" if "Laboratorio" in name else "Studio"),
            type="Customer" if rng.random() < 0.9 else "Potential",
            external_account=account,
            our_account=_maybe(rng, 0.3, f"K{rng.randrange(10000, 99999)}"),
        )

    def new_account(self) -> str:
        customers = self.dataset.records(ExportType.CUSTOMERS)
        existing = {c.external_account for c in customers if isinstance(c, Customer)}
        return self.fresh_number("account", 10000, 99999, lambda n: f"0{n}" in existing).zfill(6)

    # -- products and prices --

    def product(self, figure: italian.Figure, shank: str, size: str, record_id: int) -> Product:
        rng = self.rng
        short, group_id, group_text = _FAMILY_NAMES[figure.family]
        code = italian.article_code(figure, shank, size)
        pack = rng.choice(("1", "5", "5", "10"))
        modified = _moment(rng, TODAY - timedelta(days=rng.randrange(400)))
        return Product(
            id=code,
            name=f"{short} {figure.code} {_SHANK_SHORT.get(shank, 'FGXL')} {size}",
            description=(
                italian.article_description(figure, shank, size) if rng.random() < 0.95 else None
            ),
            group=short.title(),
            package_content=f"{pack} pz",
            search_name=code.replace(".", ""),
            price_unit="1",
            product_group_id=group_id,
            group_description=group_text,
            min_qty=Decimal(1),
            multiple_qty=Decimal(pack),
            max_qty=Decimal(rng.choice((100, 500, 1000))) if rng.random() < 0.1 else None,
            figure=figure.code,
            data_area_id="kit",
            record_id=str(record_id),
            modified_at=modified,
            stopped=rng.random() < 0.03,
            block_id=_maybe(rng, 0.02, "Vendite"),
            pack=pack,
            shank=shank,
            size=size,
            config_id=_maybe(rng, 0.05, "STD"),
            created_by=rng.choice(("admin", "datamig", "mbianchi")),
            created_on=date(2019, 1, 1) + timedelta(days=rng.randrange(2200)),
            default_qty=Decimal(pack),
            display_number=code,
            total_absolute_discount=rng.random() < 0.1,
            line_discount=rng.random() < 0.9,
            modified_by=rng.choice(("admin", "mbianchi", "lverdi")),
            orderable=rng.random() < 0.97,
            purchase_price=_money(rng, 1.5, 40) if rng.random() < 0.8 else None,
            standard_config_id=None,
            standard_qty=Decimal(1),
            vat_item_id="22",
            unit_id="Pz",
        )

    def price(self, id_: str, product: Product, *, tier: bool) -> Price:
        rng = self.rng
        grouped = rng.random() < 0.1
        base = _money(rng, 4, 60)
        current = rng.random() < 0.85
        return Price(
            id=id_,
            account_code="Gruppo" if grouped else "Tutti",
            account="DENT" if grouped else None,
            account_description="Studi dentistici e cliniche odontoiatriche" if grouped else None,
            item_selection=product.id,
            item_description=product.description or product.name,
            from_date=date(2026, 1, 1) if current else date(2025, 1, 1),
            to_date=OPEN_END if current else date(2025, 12, 31),
            qty_from=Decimal("10.00") if tier else Decimal("1.00"),
            qty_to=Decimal("0.00"),
            price_unit="1",
            unit_price=(base * Decimal("0.9")).quantize(_CENT) if tier else base,
            currency="EUR",
            net_price_brasseler=(base * Decimal("0.62")).quantize(_CENT)
            if rng.random() < 0.6
            else None,
        )

    # -- orders, DDT, invoices --

    def order(
        self,
        id_: str,
        sales_id: str | None,
        customer: Customer,
        created: datetime,
        stage: Stage,
        completed: date | None,
    ) -> Order:
        rng = self.rng
        where = _city_of(customer.city)
        if rng.random() < 0.85:
            delivery_name = customer.name
            address = f"{customer.street} {customer.postal_code} {where.name} {where.province}"
        else:
            other = italian.city(rng)
            delivery_name = f"{customer.name} - Sede di {other.name}"
            address = (
                f"{italian.street(rng)} {italian.postal_code(rng, other)} "
                f"{other.name} {other.province}"
            )
        gross = _money(rng, 40, 4000) if rng.random() < 0.97 else _money(rng, 4000, 130000)
        discount = rng.choice((Decimal("0.00"),) * 5 + (Decimal("5.00"), Decimal("12.50")))
        total = (gross * (1 - discount / 100)).quantize(_CENT)
        transferred = stage not in ("draft", "pending")
        status = {
            "draft": "Giornale",
            "pending": "Ordine aperto",
            "open": "Ordine aperto",
            "delivered": "Consegnato",
            "invoiced": "Fatturato",
        }[stage]
        document = {
            "draft": "Nessuno",
            "pending": "Nessuno",
            "open": "Conferma",
            "delivered": "Documento di trasporto",
            "invoiced": "Fattura",
        }[stage]
        return Order(
            id=id_,
            sales_id=sales_id,
            customer_profile=customer.profile,
            sales_name=customer.name,
            delivery_name=delivery_name,
            delivery_address=address,
            created_at=created,
            delivery_date=created.date() + timedelta(days=rng.randint(1, 10))
            if stage != "draft" or rng.random() < 0.5
            else None,
            description=_maybe(rng, 0.45, rng.choice(_ORDER_NOTES)),
            customer_reference=_maybe(rng, 0.3, f"Rif. {rng.randint(1, 400)}/{created:%y}"),
            sales_status=status,
            order_type="Giornale" if stage == "draft" else "Ordine di vendita",
            document_status=document,
            sales_origin="Agent" if rng.random() < 0.96 else None,
            transfer_status={"draft": "Modifica", "pending": "In attesa di approvazione"}.get(
                stage, "Trasferito"
            ),
            transfer_date=created.date() + timedelta(days=rng.randint(0, 1))
            if transferred
            else None,
            completed_date=completed,
            quote=rng.random() < 0.02,
            apply_discount=discount,
            gross_amount=gross,
            total_amount=total,
            gift_order=rng.random() < 0.02,
            email=_maybe(rng, 0.6, f"info@{italian.slug(customer.name or 'studio')[:18]}.it"),
        )

    def ddt(self, id_: str, number: str, order: Order, delivered: date) -> Ddt:
        rng = self.rng
        assert order.sales_id is not None
        customer = self._customer_by_profile(order.customer_profile)
        mode = rng.choice(list(CARRIERS))
        word, template = CARRIERS[mode]
        tracking_number = self.tracking_number(mode)
        roll = rng.random()
        has_tracking = roll < 0.9
        city = (order.delivery_address or "").split(" ")
        return Ddt(
            id=id_,
            ddt_number=number,
            delivery_date=delivered,
            sales_id=order.sales_id,
            order_account=customer.external_account if customer else None,
            sales_name=order.sales_name,
            delivery_name=order.delivery_name,
            delivery_address=order.delivery_address,
            quantity=Decimal(rng.choice((1, 2, 5, 10, 15, 20, 30, 50, 120))),
            customer_reference=order.customer_reference,
            description=_maybe(rng, 0.15, "Consegna parziale, il resto segue"),
            tracking_carrier=word if has_tracking else None,
            tracking_number=tracking_number if has_tracking else None,
            tracking_url=template.format(tracking_number) if roll < 0.7 else None,
            delivery_terms=_maybe(rng, 0.85, rng.choice(DELIVERY_TERMS)),
            delivery_mode=mode,
            attention_to=customer.attention_to if customer else None,
            delivery_city=_delivery_city(city),
        )

    def tracking_number(self, mode: str) -> str:
        rng = self.rng
        digits = {"FedEx": 12, "DHL": 10, "GLS": 11, "BRT": 12, "TNT": 9, "SDA": 13}
        if mode == "UPS":
            alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
            return "1Z" + "".join(rng.choice(alphabet) for _ in range(16))
        n = digits[mode]
        return str(rng.randrange(10 ** (n - 1), 10**n))

    def invoice(
        self, id_: str, order: Order, issued: date, *, credit: bool, quantity: Decimal
    ) -> Invoice:
        rng = self.rng
        customer = self._customer_by_profile(order.customer_profile)
        balance = order.total_amount or _money(rng, 50, 500)
        if credit:
            balance = -(balance * Decimal(rng.choice(("0.1", "0.25", "1")))).quantize(_CENT)
            quantity = -quantity
        line_discount = (
            (order.gross_amount or balance) - (order.total_amount or balance)
        ).copy_abs()
        tax = (balance * Decimal("0.22")).quantize(_CENT)
        amount = balance + tax
        month_end = (issued.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        due = month_end + timedelta(days=60)
        paid = (due < TODAY and rng.random() < 0.8) or credit
        settled = amount if paid else Decimal("0.00")
        remaining = amount - settled
        overdue = (TODAY - due).days if not paid and due < TODAY else 0
        return Invoice(
            id=id_,
            invoice_date=issued,
            account=customer.external_account if customer else None,
            billing_name=customer.name if customer else order.sales_name,
            quantity=quantity,
            sales_balance=balance,
            line_discount_sum=line_discount.quantize(_CENT),
            total_discount=Decimal("0.00"),
            tax_sum=tax,
            invoice_amount=amount,
            purchase_order=_maybe(rng, 0.2, f"OA {rng.randint(1, 999)}/{issued:%Y}"),
            customer_reference=order.customer_reference,
            due_date=due,
            payment_term_id=rng.choice(PAYMENT_TERMS),
            days_past_due=overdue,
            settled_amount=settled,
            last_payment_id=f"PAG/{due:%y}{rng.randrange(1, 9999):06d}" if paid else None,
            last_settlement_date=min(due, TODAY) if paid else None,
            closed=paid,
            remaining_amount=remaining,
            sales_id=order.sales_id,
        )

    def _customer_by_profile(self, profile: str | None) -> Customer | None:
        stamp = (id(self.dataset), self.dataset.version)
        if self._index_stamp != stamp:
            self._index = {
                c.profile: c
                for c in self.dataset.records(ExportType.CUSTOMERS)
                if isinstance(c, Customer)
            }
            self._index_stamp = stamp
        return self._index.get(profile)

    # -- mutation helpers --

    def new_record(self, t: ExportType) -> Record:
        """A plausible new record of ``t`` linked to existing records where it has links."""
        rng = self.rng
        ds = self.dataset
        fresh = self.fresh_number
        taken = self._taken(t)
        customers = [c for c in ds.records(ExportType.CUSTOMERS) if isinstance(c, Customer)]
        orders = [o for o in ds.records(ExportType.ORDERS) if isinstance(o, Order)]
        if t is ExportType.CUSTOMERS:
            profiles = {c.profile for c in customers}
            profile = fresh("profile", 1000, 99999, lambda p: p in profiles)
            return self.customer(fresh("customer", 1000, 99999, taken), profile, self.new_account())
        if t is ExportType.PRODUCTS:
            while True:
                figure, shank, size = rng.choice(italian.all_article_codes())
                if (t, italian.article_code(figure, shank, size)) not in ds:
                    return self.product(figure, shank, size, rng.randrange(5637144576, 5637999999))
        if t is ExportType.PRICES:
            products = [p for p in ds.records(ExportType.PRODUCTS) if isinstance(p, Product)]
            if not products:
                raise ValueError("cannot add a price without products")
            return self.price(fresh("price", 1000, 999999, taken), rng.choice(products), tier=False)
        if t is ExportType.ORDERS:
            if not customers:
                raise ValueError("cannot add an order without customers")
            created = _moment(rng, TODAY)
            order_id = fresh("order", 1000, 99999, taken)
            return self.order(order_id, None, rng.choice(customers), created, "pending", None)
        linked = [o for o in orders if o.sales_id is not None]
        if not linked:
            raise ValueError(f"cannot add {t} without orders that have a sales id")
        order = rng.choice(linked)
        if t is ExportType.DDT:
            number = f"DDT/26{int(fresh('ddt_number', 900000, 999999, lambda _: False)):06d}"
            return self.ddt(fresh("ddt", 1000, 999999, taken), number, order, TODAY)
        credit = rng.random() < 0.1
        prefix = "NC" if credit else "CF1"
        number = fresh("invoice", 900000, 999999, lambda n: (t, f"{prefix}/26{n}") in ds)
        return self.invoice(
            f"{prefix}/26{number}", order, TODAY, credit=credit, quantity=Decimal(5)
        )

    def changes_for(self, record: Record) -> dict[str, Any]:
        """Field changes that a real edit of ``record`` might make."""
        rng = self.rng
        if isinstance(record, Customer):
            where = italian.city(rng)
            return rng.choice(
                (
                    {"phone": italian.phone(rng, where)},
                    {"pec": italian.pec(rng, record.name or "studio")},
                    {
                        "street": italian.street(rng),
                        "postal_code": italian.postal_code(rng, where),
                        "city": where.name,
                    },
                    {"attention_to": italian.full_name(rng)},
                    {"sales_amount": _money(rng, 100, 30000)},
                    {"name": italian.practice_name(rng)[0]},
                )
            )
        if isinstance(record, Product):
            return rng.choice(
                (
                    {"stopped": not record.stopped},
                    {"purchase_price": _money(rng, 1.5, 40)},
                    {"modified_at": _moment(rng, TODAY), "modified_by": "admin"},
                    {"description": f"{record.description or record.name} (nuova confezione)"},
                )
            )
        if isinstance(record, Price):
            return rng.choice(({"unit_price": _money(rng, 4, 60)}, {"to_date": date(2026, 12, 31)}))
        if isinstance(record, Order):
            return rng.choice(
                (
                    {"sales_status": "Consegnato", "document_status": "Documento di trasporto"},
                    {"total_amount": _money(rng, 40, 4000)},
                    {"delivery_date": TODAY + timedelta(days=rng.randint(1, 20))},
                    {"customer_reference": f"Rif. {rng.randint(1, 400)}/26"},
                )
            )
        if isinstance(record, Ddt):
            mode = rng.choice(list(CARRIERS))
            number = self.tracking_number(mode)
            return rng.choice(
                (
                    {
                        "delivery_mode": mode,
                        "tracking_carrier": CARRIERS[mode][0],
                        "tracking_number": number,
                        "tracking_url": CARRIERS[mode][1].format(number),
                    },
                    {"delivery_date": TODAY},
                    {"quantity": Decimal(rng.randint(1, 200))},
                )
            )
        remaining = record.remaining_amount or Decimal("0.00")
        return rng.choice(
            (
                {
                    "closed": True,
                    "settled_amount": record.invoice_amount,
                    "remaining_amount": Decimal("0.00"),
                    "last_settlement_date": TODAY,
                },
                {"remaining_amount": (remaining / 2).quantize(_CENT)},
                {"due_date": TODAY + timedelta(days=30)},
            )
        )


def _delivery_city(address_words: Sequence[str]) -> str | None:
    # The address ends "CAP city PROV": the city is what lies between.
    for index, word in enumerate(address_words):
        if len(word) == 5 and word.isdigit():
            return " ".join(address_words[index + 1 : -1]) or None
    return None


class _Generator:
    """Builds a whole :class:`Dataset` in dependency order."""

    def __init__(self, rng: random.Random, scale: float) -> None:
        self.rng = rng
        self.counts = {t: max(MIN_COUNT, round(n * scale)) for t, n in BASE_COUNTS.items()}
        self.dataset = Dataset()
        self.maker = _Maker(rng, self.dataset)

    def build(self) -> Dataset:
        customers = self._customers()
        # DDT and invoices look their customer up by profile in the dataset
        self.dataset = self.maker.dataset = Dataset({ExportType.CUSTOMERS: customers})
        products = self._products()
        prices = self._prices(products)
        orders, ddts, invoices = self._orders(customers)
        customers = self._with_order_stats(customers, orders)
        return Dataset(
            {
                ExportType.CUSTOMERS: customers,
                ExportType.PRODUCTS: products,
                ExportType.PRICES: prices,
                ExportType.ORDERS: orders,
                ExportType.DDT: ddts,
                ExportType.INVOICES: invoices,
            }
        )

    def _distinct(self, n: int, low: int, high: int) -> list[int]:
        return self.rng.sample(range(low, high), n)

    def _customers(self) -> list[Customer]:
        n = self.counts[ExportType.CUSTOMERS]
        ids = self._distinct(n, 1000, 99999)
        profiles = self._distinct(n, 1000, 99999)
        accounts = self._distinct(n, 1000, 99999)
        customers = [
            self.maker.customer(str(i), str(p), f"{a:06d}")
            for i, p, a in zip(ids, profiles, accounts, strict=True)
        ]
        customers.sort(key=lambda c: (c.name or "").lower())
        return customers

    def _products(self) -> list[Product]:
        n = self.counts[ExportType.PRODUCTS]
        combos = self.rng.sample(italian.all_article_codes(), n)
        combos.sort(key=lambda c: italian.article_code(*c))
        return [
            self.maker.product(figure, shank, size, 5637144576 + index * 3)
            for index, (figure, shank, size) in enumerate(combos)
        ]

    def _prices(self, products: Sequence[Product]) -> list[Price]:
        n = self.counts[ExportType.PRICES]
        base = min(n, len(products))
        tiered = sorted(self.rng.sample(range(len(products)), min(n - base, len(products))))
        ids = iter(sorted(self._distinct(n, 1000, 999999)))
        prices = [self.maker.price(str(next(ids)), p, tier=False) for p in products[:base]]
        prices += [self.maker.price(str(next(ids)), products[i], tier=True) for i in tiered]
        return prices

    def _orders(
        self, customers: Sequence[Customer]
    ) -> tuple[list[Order], list[Ddt], list[Invoice]]:
        rng = self.rng
        n = self.counts[ExportType.ORDERS]
        n_ddt = self.counts[ExportType.DDT]
        n_invoices = self.counts[ExportType.INVOICES]
        # Some customers order often: a skewed choice over customers.
        weights = [rng.paretovariate(1.5) for _ in customers]
        buyers = rng.choices(customers, weights=weights, k=n)
        start = datetime.combine(TODAY - timedelta(days=365), time(0))
        created = sorted(
            _moment(rng, (start + timedelta(days=rng.randrange(365))).date()) for _ in range(n)
        )
        drafts = max(1, round(n * 0.04))
        pending = max(1, round(n * 0.03))
        delivered = max(1, min(round(n * 0.72), n_ddt, n - drafts - pending))
        open_ = n - drafts - pending - delivered
        credit = max(1, round(n_invoices * 0.08))
        regular = n_invoices - credit
        invoiced = min(regular, delivered)
        # Oldest orders are the delivered ones, newest are drafts.
        plan: list[tuple[Stage, int]] = [
            ("invoiced", invoiced),
            ("delivered", delivered - invoiced),
            ("open", open_),
            ("pending", pending),
            ("draft", drafts),
        ]
        stages = [stage for stage, k in plan for _ in range(k)]
        ddt_per_order = [1] * delivered
        for _ in range(n_ddt - delivered):
            ddt_per_order[rng.randrange(delivered)] += 1
        order_ids = self._distinct(n, 1000, 99999)
        ddt_ids = iter(sorted(self._distinct(n_ddt, 1000, 999999)))
        sequences: dict[str, int] = {}

        def number(prefix: str, day: date) -> str:
            key = f"{prefix}/{day:%y}"
            sequences[key] = sequences.get(key, rng.randint(100, 400)) + rng.randint(1, 2)
            return f"{key}{sequences[key]:06d}"

        orders: list[Order] = []
        ddts: list[Ddt] = []
        invoice_plan: list[tuple[Order, date]] = []
        for index, (stage, buyer, moment) in enumerate(zip(stages, buyers, created, strict=True)):
            sales_id = None if stage in ("draft", "pending") else number("ORD", moment.date())
            deliveries: list[date] = []
            if stage in ("delivered", "invoiced"):
                day = moment.date()
                for _ in range(ddt_per_order[index]):
                    day += timedelta(days=rng.randint(1, 6))
                    deliveries.append(day)
            completed = deliveries[-1] if deliveries else None
            order = self.maker.order(
                str(order_ids[index]), sales_id, buyer, moment, stage, completed
            )
            orders.append(order)
            for day in deliveries:
                ddts.append(self.maker.ddt(str(next(ddt_ids)), number("DDT", day), order, day))
            if stage == "invoiced" and completed is not None:
                invoice_plan.append((order, completed + timedelta(days=rng.randint(0, 20))))
        # More invoices than invoiced orders: some orders were invoiced twice.
        while len(invoice_plan) < regular:
            order, day = rng.choice(invoice_plan)
            invoice_plan.append((order, day + timedelta(days=rng.randint(1, 15))))
        invoices: list[Invoice] = []
        credit_plan = [
            (order, day + timedelta(days=rng.randint(5, 40)))
            for order, day in rng.sample(invoice_plan, min(credit, len(invoice_plan)))
        ]
        documents = [(o, d, False) for o, d in invoice_plan]
        documents += [(o, d, True) for o, d in credit_plan]
        documents.sort(key=lambda entry: entry[1])
        for order, day, is_credit in documents:
            quantity = Decimal(rng.randint(1, 60))
            if rng.random() < 0.08:  # the portal prints one-decimal quantities too
                quantity = Decimal(rng.randint(10, 30000)) / 10
            invoice_id = number("NC" if is_credit else "CF1", day)
            invoices.append(
                self.maker.invoice(invoice_id, order, day, credit=is_credit, quantity=quantity)
            )
        # The list views show the newest documents first.
        orders.reverse()
        ddts.reverse()
        invoices.reverse()
        return orders, ddts, invoices

    def _with_order_stats(
        self, customers: Sequence[Customer], orders: Sequence[Order]
    ) -> list[Customer]:
        stats: dict[str | None, tuple[int, date, Decimal]] = {}
        for order in orders:
            count, last, total = stats.get(order.customer_profile, (0, date.min, Decimal("0.00")))
            stats[order.customer_profile] = (
                count + 1,
                max(last, order.created_at.date()),
                total + (order.total_amount or 0),
            )
        out = []
        for customer in customers:
            if customer.profile in stats:
                count, last, total = stats[customer.profile]
                customer = dataclasses.replace(
                    customer, order_count=count, last_order_date=last, sales_amount=total
                )
            out.append(customer)
        return out
