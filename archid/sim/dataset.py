"""The simulator's ground truth: the records of all six exports, and changes to them.

:meth:`Dataset.generate` builds a plausible, internally consistent portal
from a seed and a scale; ``scale=1`` matches the real portal's volumes of
January 2026 (spec v2 section 2: 1,452 customers, about 4,540 products,
4,976 prices, 999 orders, 1,132 DDT, 128 invoices). Generation is
deterministic for ``(seed, scale)`` in every process.

The records are the canonical records of :mod:`archid.records`, exactly what
a correct parser yields from a *full* export (see
:data:`archid.sim.layouts.FULL_VIEW`), in export order (customers by ID,
products by article, prices by ID, orders, DDT and invoices newest first).
Values follow the spec's evidence: accounts with leading zeros (``049421``)
only for real customers, the agent's cooperative ``049421`` ordering most
orders, purchase-order numbers shared by an order, its DDT and its
invoices, invoice amounts without trailing zeros, CHIUSO a date.

Every list but customers has a modification date-time, MODIFIEDDATETIME
(spec v3 "List view pages"): products hold it as ``modified_at``; the other
types' records have no such field, so the grid derives it from the record's
own date (``archid.sim.layouts``) unless the dataset holds a *stamp* for
the record: a change made with ``at=`` (the test API passes the
simulator's clock) sets ``modified_at`` on products and stamps the record
otherwise, as the real ERP stamps every change. Stamps follow a record to
a new key and leave with it; they are part of :attr:`Dataset.fingerprint`.

Links hold after generation (spec "Relations"): orders', DDT's and
invoices' accounts are customers' accounts, DDT and invoices point at
existing orders' numbers, prices' articles are existing products. Mutations
keep links where it is cheap but never cascade: deleting a customer leaves
its orders in place, as the portal does. :meth:`Dataset.renumber` gives
every record of a type a new internal ID, as the ERP did in February 2026.
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

#: Counts at ``scale=1``, from the real portal (spec v2 section 2).
BASE_COUNTS: Mapping[ExportType, int] = {
    ExportType.CUSTOMERS: 1452,
    ExportType.PRODUCTS: 4540,
    ExportType.PRICES: 4976,
    ExportType.ORDERS: 999,
    ExportType.DDT: 1132,
    ExportType.INVOICES: 128,
}
#: Fewest records of each type at any scale, so small datasets still exercise everything.
MIN_COUNT = 5
#: The portal's "today": orders span the year before it.
TODAY = date(2026, 3, 20)
#: The far date the portal writes for an open-ended price validity.
OPEN_END = date(2154, 12, 31)
#: The agent's cooperative: the account of most orders (spec: 960 of 999).
COOPERATIVE_ACCOUNT = "049421"
COOPERATIVE_NAME = "Cooperativa Odontoiatri Associati Soc. Coop."
#: Share of orders placed through the cooperative.
COOPERATIVE_SHARE = 960 / 999
#: Share of orders whose APPLICA SCONTO %: is 0 (spec: 963 of 999).
NO_DISCOUNT_SHARE = 963 / 999
#: Types whose records carry an internal ID that :meth:`Dataset.renumber` changes.
RENUMBERED: frozenset[ExportType] = frozenset(
    {ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES, ExportType.PRICES, ExportType.PRODUCTS}
)

#: Types whose records' MODIFIEDDATETIME the dataset stamps (no ``modified_at`` field).
STAMPED: frozenset[ExportType] = frozenset(
    {ExportType.PRICES, ExportType.ORDERS, ExportType.DDT, ExportType.INVOICES}
)

#: DESCRIZIONE:/TYPE: pairs of the customers export.
POTENTIAL = ("Potential customer from database Italia", "PotDentiItal")
CUSTOMER_KINDS = (("Customer from Concessionario", "CustFromConcess"), ("Debitor", "Debitor"))
CUSTOMER_DELIVERY_MODES = ("FedEx", "FedEx", "UPS Italia", "Mittente")
#: DDT delivery modes, with the share of rows that print each.
DDT_MODES: tuple[tuple[str, float], ...] = (
    ("FedEx", 0.5),
    ("UPS Italia", 0.375),
    ("Mittente", 0.125),
)
DELIVERY_TERMS = "Spese trasporto carico destinatario"
PRICE_GROUPS = (("002", "DETTAGLIO (consigliato)"), ("003", "CONCESSIONARI"))
PAYMENT_TERMS_IBAN = (
    "201 BONIF. BANC. 60 GG.DFFM Iban",
    "202 BONIF. BANC. 30 GG.DFFM Iban",
    "203 BONIF. BANC. 90 GG.DFFM Iban",
)
PAYMENT_TERMS_PLAIN = ("001 RIMESSA DIRETTA", "101 RI.BA. 30-60 GG.DFFM")
SALES_ORIGINS = ("Agent", "Agent", "Concessionari K3")
_FAMILY_NAMES = {
    "Fresa in carburo di tungsteno": ("FRESA CT", "FCT", "Frese in carburo di tungsteno"),
    "Fresa diamantata": ("DIAMANTATA", "FDIA", "Frese diamantate"),
    "Fresa in ceramica": ("CERAMICA", "FCER", "Frese in ceramica"),
    "Gommino per lucidatura": ("GOMMINO", "GLUC", "Gommini per lucidatura"),
}
_PO_TEXTS = ("Riassortimento", "Campionatura", "Ordine telefonico", "MAG-26")
_CENT = Decimal("0.01")
#: Where an order is in its life; decides its statuses, DDT and invoices.
Stage = Literal["draft", "pending", "open", "delivered", "invoiced"]


@dataclass(frozen=True, slots=True)
class Change:
    """One change made to a :class:`Dataset`: the record before and after it.

    ``before`` is ``None`` for an add, ``after`` is ``None`` for a delete.
    ``key`` is the record's key before the change (after it, for an add).
    """

    op: Literal["add", "update", "delete"]
    type: ExportType
    key: str
    before: Record | None
    after: Record | None


def plain_decimal(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form (``20.00`` → ``20``,
    ``2112.70`` → ``2112.7``): what the invoices export prints and a parse yields."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


class Dataset:
    """The records of all six export types, keyed by ``record.key`` and in export order.

    ``version`` starts at 0 and grows by one per elementary change (each
    add, update or delete, including each one :meth:`mutate` makes, and one
    per :meth:`renumber`). ``fingerprint`` is a 16-hex-digit digest of the
    exact content: equal content gives an equal fingerprint in any
    process, so it is a cache key for rendered exports.
    """

    def __init__(self, tables: Mapping[ExportType, Iterable[Record]] | None = None) -> None:
        """A dataset holding ``tables`` (missing types are empty); raises ``ValueError``
        on a duplicate key and ``TypeError`` on a record of the wrong type."""
        self.version = 0
        self._tables: dict[ExportType, dict[str, Record]] = {t: {} for t in ExportType}
        #: per type, key → the MODIFIEDDATETIME of a record changed with ``at=``
        #: (types whose records have no ``modified_at`` field)
        self._stamps: dict[ExportType, dict[str, datetime]] = {t: {} for t in ExportType}
        #: the highest customer ID this dataset ever held (the ERP never gives one twice)
        self.top_customer_id = 0
        self._digests: dict[ExportType, bytes] = {}
        #: the clock a change is stamped with when no ``at`` is given (the
        #: portal's, set by :class:`~archid.sim.portal.Portal`); none: unstamped
        self.clock: Callable[[], datetime] | None = None
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

    def stamps(self, t: ExportType) -> Mapping[str, datetime]:
        """Key → MODIFIEDDATETIME of the records of ``t`` changed with ``at=`` (a copy).

        Empty for customers (no modification time) and products (their
        ``modified_at`` field is set instead).
        """
        return dict(self._stamps[t])

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
                for key, moment in sorted(self._stamps[t].items()):
                    table.update(f"{key}@{moment.isoformat()}\n".encode())
                self._digests[t] = table.digest()
            digest.update(t.value.encode() + self._digests[t])
        return digest.hexdigest()

    # -- changing ----------------------------------------------------------

    def add(self, t: ExportType, record: Record, *, at: datetime | None = None) -> Record:
        """Append ``record`` to ``t`` and return it; raises ``ValueError`` if its key exists.

        With ``at`` (naive portal local time) the record is modified then:
        a product's ``modified_at`` becomes ``at``, any other record but a
        customer is stamped with it.
        """
        at = at if at is not None or self.clock is None else self.clock()
        if at is not None and isinstance(record, Product):
            record = dataclasses.replace(record, modified_at=at)
        self._insert(t, record)
        if at is not None and t in STAMPED:
            self._stamps[t][record_key(record)] = at
        self._changed(t)
        return record

    def update(
        self, t: ExportType, key: str, *, at: datetime | None = None, **changes: Any
    ) -> Record:
        """Replace fields of the record under ``key`` and return the new record.

        Raises ``KeyError`` for an unknown key, ``ValueError`` for an unknown
        field or a key change onto an existing key. Without ``at`` the
        dataset's :attr:`clock` stamps the change, if it has one. The record keeps its
        place, also when the change gives it a new key (a pending order
        that gets its order number). With ``at`` the change is stamped as in
        :meth:`add`, except that a change naming ``modified_at`` itself keeps
        the value it gives.
        """
        at = at if at is not None or self.clock is None else self.clock()
        table = self._tables[t]
        old = table[key]
        names = {f.name for f in dataclasses.fields(old)} - {"unread"}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"{type(old).__name__} has no fields {sorted(unknown)}")
        if at is not None and t is ExportType.PRODUCTS and "modified_at" not in changes:
            changes = {**changes, "modified_at": at}
        new = dataclasses.replace(old, **changes)
        new_key = record_key(new)
        if new_key != key:
            if new_key in table:
                raise ValueError(f"{t}: key {new_key!r} already exists")
            self._tables[t] = {new_key if k == key else k: v for k, v in table.items()}
            stamps = self._stamps[t]
            if key in stamps:
                stamps[new_key] = stamps.pop(key)
        self._tables[t][new_key] = new
        if at is not None and t in STAMPED:
            self._stamps[t][new_key] = at
        self._changed(t)
        return new

    def delete(self, t: ExportType, key: str) -> Record:
        """Remove and return the record under ``key`` (and its stamp); raises ``KeyError``."""
        record = self._tables[t].pop(key)
        self._stamps[t].pop(key, None)
        self._changed(t)
        return record

    def mutate(
        self, t: ExportType, rng_seed: int, n: int, *, at: datetime | None = None
    ) -> list[Change]:
        """Make ``n`` random plausible changes to ``t`` (adds, updates, deletes).

        Deterministic for the dataset's content, ``rng_seed`` and ``n``.
        Returns the changes in the order they were made. With ``at`` every
        add and update is stamped as in :meth:`add` (a product's own
        ``modified_at`` change included). A new customer's ID is above
        every existing one, as the ERP's are.
        """
        at = at if at is not None or self.clock is None else self.clock()
        rng = random.Random(f"archid-mutate:{t.value}:{rng_seed}:{self.fingerprint}")
        maker = _Maker(rng, self)
        changes: list[Change] = []
        for _ in range(n):
            keys = list(self._tables[t])
            roll = rng.random()
            if not keys or roll < 0.4:
                record = self.add(t, maker.new_record(t), at=at)
                changes.append(Change("add", t, record_key(record), None, record))
            elif roll < 0.8:
                key = rng.choice(keys)
                before = self._tables[t][key]
                edits = maker.changes_for(before)
                if at is not None:
                    edits.pop("modified_at", None)  # the stamp is the modification time
                after = self.update(t, key, at=at, **edits)
                changes.append(Change("update", t, key, before, after))
            else:
                key = rng.choice(keys)
                before = self.delete(t, key)
                changes.append(Change("delete", t, key, before, None))
        return changes

    def renumber(self, t: ExportType, seed: int) -> list[Change]:
        """Give every record of ``t`` a new internal ID (its ``id`` field), keeping all else.

        As the ERP did when it re-created its records: the new IDs are
        drawn from another range, in the same relative order, so the export
        keeps its row order. Invoices have no internal ID in their records:
        for them nothing changes (an empty list). Customers are keyed by
        their ID and never renumbered: ``ValueError``. Deterministic for the
        content and ``seed``; returns one ``update`` per record whose ID
        changed, and counts as one version step.
        """
        if t not in RENUMBERED:
            raise ValueError(f"{t} cannot be renumbered (its ID is its key)")
        table = self._tables[t]
        if t is ExportType.INVOICES or not table:
            return []
        rng = random.Random(f"archid-renumber:{t.value}:{seed}:{self.fingerprint}")
        records = list(table.values())
        current = sorted(
            range(len(records)), key=lambda i: _id_number(getattr(records[i], "id", None))
        )
        fresh = _new_ids(rng, t, len(records), {getattr(r, "id", None) for r in records})
        new_ids: dict[int, str] = dict(zip(current, fresh, strict=True))
        changes: list[Change] = []
        rebuilt: dict[str, Record] = {}
        stamps = self._stamps[t]
        restamped: dict[str, datetime] = {}
        for index, record in enumerate(records):
            renumbered: dict[str, Any] = {"id": new_ids[index]}
            after = dataclasses.replace(record, **renumbered)
            key = record_key(after)
            if key in rebuilt:
                raise ValueError(f"{t}: renumbering made key {key!r} twice")
            rebuilt[key] = after
            old_key = record_key(record)
            if old_key in stamps:
                restamped[key] = stamps[old_key]
            changes.append(Change("update", t, old_key, record, after))
        self._tables[t] = rebuilt
        self._stamps[t] = restamped
        self._changed(t)
        return changes

    def _insert(self, t: ExportType, record: Record) -> None:
        if not isinstance(record, RECORD_TYPES[t]):
            raise TypeError(f"{t} holds {RECORD_TYPES[t].__name__}, not {type(record).__name__}")
        key = record_key(record)
        if key in self._tables[t]:
            raise ValueError(f"{t}: key {key!r} already exists")
        self._tables[t][key] = record
        if isinstance(record, Customer):
            self.top_customer_id = max(self.top_customer_id, _id_number(record.id))

    def _changed(self, t: ExportType) -> None:
        self.version += 1
        self._digests.pop(t, None)


def _id_number(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() else -1


def _new_ids(rng: random.Random, t: ExportType, n: int, old: set[str | None]) -> list[str]:
    """``n`` ascending fresh IDs for ``t``, none of them in ``old``."""
    if t is ExportType.PRICES:
        start, step = rng.randint(1, 3000), 3  # price IDs stay small numbers
    elif t is ExportType.PRODUCTS:
        start, step = rng.randint(100_000, 200_000), 4
    else:
        start, step = rng.randint(20_000, 60_000), 3
    out: list[str] = []
    value = start
    while len(out) < n:
        value += rng.randint(1, step)
        if str(value) not in old:
            out.append(str(value))
    return out


# -- generation --------------------------------------------------------------


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), 2))).quantize(_CENT)


def _sales(rng: random.Random) -> Decimal:
    """A customer's yearly sales: mostly small, now and then as big as ``124.497,43 €``."""
    return _money(rng, 50, 9000) if rng.random() < 0.97 else _money(rng, 20_000, 130_000)


def _moment(rng: random.Random, day: date) -> datetime:
    """A working-hours moment on ``day``."""
    return datetime.combine(day, time(8, 0)) + timedelta(seconds=rng.randrange(10 * 3600))


def _maybe(rng: random.Random, p: float, value: str) -> str | None:
    return value if rng.random() < p else None


def _city_of(name: str | None) -> italian.City:
    plain = (name or "").replace("\u2019", "'")
    for entry in italian.CITIES:
        if entry.name == plain:
            return entry
    return italian.CITIES[0]


def _mailbox(rng: random.Random, owner: str) -> str:
    domain = rng.choice(("gmail.com", "libero.it", "virgilio.it", "studio.it", "tiscali.it"))
    return f"{italian.slug(owner)[:20] or 'studio'}@{domain}"


def _delivery_email(rng: random.Random, owner: str) -> str | None:
    """CITTÀ DI CONSEGNA: one or two addresses, often ending in ``;`` (spec v2)."""
    roll = rng.random()
    if roll < 0.08:
        return None
    first = _mailbox(rng, owner)
    if roll < 0.2:
        return f"{first}; amministrazione@{first.split('@', 1)[1]};"
    return f"{first};" if roll < 0.8 else first


class _Maker:
    """Builds single plausible records, drawing fresh numbers that ``dataset`` lacks."""

    def __init__(self, rng: random.Random, dataset: Dataset) -> None:
        self.rng = rng
        self.dataset = dataset
        self._used: dict[str, set[str]] = {}

    def fresh(self, space: str, low: int, high: int, taken: set[str]) -> str:
        """A number in ``[low, high)`` that is neither in ``taken`` nor drawn before."""
        used = self._used.setdefault(space, set())
        while True:
            candidate = str(self.rng.randrange(low, high))
            if candidate not in used and candidate not in taken:
                used.add(candidate)
                return candidate

    # -- customers --

    def customer(self, id_: str, account: str | None) -> Customer:
        rng = self.rng
        name, is_company = italian.practice_name(rng)
        where = italian.city(rng)
        vat = italian.partita_iva(rng) if is_company or rng.random() < 0.9 else None
        first, last, female = italian.person(rng)
        if is_company and vat is not None:
            fiscal: str | None = vat
        else:
            fiscal = italian.codice_fiscale(
                first, last, italian.birth_date(rng), female=female, where=where
            )
        city = italian.curly(where.name) if rng.random() < 0.5 else where.name
        real = account is not None
        description, type_code = rng.choice(CUSTOMER_KINDS) if real else POTENTIAL
        orders = rng.randint(1, 40) if real else 0
        last_year = rng.randint(0, 60) if real else 0
        year_before = rng.randint(0, 60) if real else 0
        return Customer(
            id=id_,
            account=account,
            name=name,
            vat_number=vat,
            pec=italian.pec(rng, name) if rng.random() < 0.8 else None,
            sdi=italian.sdi_code(rng) if rng.random() < 0.85 else None,
            fiscal_code=fiscal,
            delivery_mode=rng.choice(CUSTOMER_DELIVERY_MODES) if rng.random() < 0.8 else None,
            street=italian.street(rng),
            postal_code=italian.postal_code(rng, where),
            city=city,
            phone=italian.phone(rng, where) if rng.random() < 0.9 else None,
            mobile=italian.mobile(rng) if rng.random() < 0.4 else None,
            url=None,
            attention_to=None,
            last_order_date=TODAY - timedelta(days=rng.randrange(300)) if real else None,
            order_count=orders,
            sales_this_year=_sales(rng) if orders else Decimal("0.00"),
            order_count_last_year=last_year,
            sales_last_year=_sales(rng) if last_year else Decimal("0.00"),
            order_count_year_before=year_before,
            sales_year_before=_sales(rng) if year_before else Decimal("0.00"),
            description=description,
            type_code=type_code,
            # NUMERO DI CONTO ESTERNO equals the ID in almost every row
            external_account=id_ if rng.random() < 0.98 else None,
            our_account=None,
        )

    def account(self, taken: set[str]) -> str:
        """A fresh account number: ``0`` and five digits, or seven digits from ``100``."""
        if self.rng.random() < 0.7:
            return "0" + self.fresh("account6", 10000, 99999, {a[1:] for a in taken})
        return self.fresh("account7", 1000000, 1009999, taken)

    # -- products and prices --

    def product(
        self, article: str, figure: italian.Figure, shank: str, size: str, id_: str
    ) -> Product:
        rng = self.rng
        short, group_id, group_text = _FAMILY_NAMES[figure.family]
        catalogue = italian.article_code(figure, shank, size)
        pack = "5" if article.endswith("K2") else rng.choice(("1", "1", "5"))
        modified = _moment(rng, TODAY - timedelta(days=rng.randrange(400)))
        created = _moment(rng, date(2019, 1, 1) + timedelta(days=rng.randrange(2200)))
        return Product(
            article=article,
            catalogue_number=catalogue,
            description=(
                italian.article_description(figure, shank, size) if rng.random() < 0.95 else None
            ),
            group=short,
            pack_size=pack,
            search_name=catalogue.replace(".", ""),
            price_unit="1",
            product_group_id=group_id,
            group_description=group_text,
            min_qty=Decimal("1.00"),
            multiple_qty=Decimal(pack).quantize(_CENT),
            max_qty=Decimal(rng.choice((100, 500, 1000))).quantize(_CENT),
            figure=figure.code,
            data_area_id="kit",
            id=id_,
            modified_at=modified,
            stopped=rng.random() < 0.03,
            block_id=_maybe(rng, 0.02, "Vendite"),
            pack=pack,
            shank=shank,
            size=size,
            config_id=_maybe(rng, 0.05, "STD"),
            created_by=rng.choice(("admin", "datamig", "mbianchi")),
            created_at=created,
            default_qty=Decimal(pack).quantize(_CENT),
            # printed "005159K2 : v.001 :   :   :"; canonical text collapses the spaces
            display_number=f"{article} : v.001 : : :",
            total_absolute_discount=rng.choice(("Unchecked", "Unchecked", "Checked")),
            line_discount=rng.choice(("Checked", "Unchecked")),
            modified_by=rng.choice(("admin", "mbianchi", "lverdi")),
            orderable=rng.choice(("Sì",) * 9 + ("No",)),
            purchase_price=_money(rng, 1.5, 40) if rng.random() < 0.8 else None,
            standard_config_id=None,
            standard_qty=Decimal("1.00"),
            vat_item_id="22",
            unit_id="001",
        )

    def price(self, id_: str, product: Product, group: tuple[str, str]) -> Price:
        rng = self.rng
        return Price(
            id=id_,
            account_code="Group",
            price_group=group[0],
            price_group_name=group[1],
            article=product.article,
            catalogue_number=product.catalogue_number,
            valid_from=date(2026, 1, 1) if rng.random() < 0.7 else date(2025, 1, 1),
            valid_to=OPEN_END,
            qty_from=Decimal(1),
            qty_to=Decimal(100_000_000),
            price_unit="1",
            unit_price=_money(rng, 4, 300),
            currency="EUR",
            net_price=rng.random() < 0.04,
        )

    # -- orders, DDT, invoices --

    def order(
        self,
        id_: str,
        number: str | None,
        recipient: Customer,
        account: tuple[str, str] | None,
        created: datetime,
        stage: Stage,
        completed: date | None,
        purchase_order: str,
    ) -> Order:
        rng = self.rng
        where = _city_of(recipient.city)
        street = recipient.street or italian.street(rng)
        cap = recipient.postal_code or italian.postal_code(rng, where)
        address = f"{street} {cap} {where.name} {where.province}"
        gross = Decimal("0.00") if rng.random() < 0.3 else _money(rng, 20, 3000)
        discount = Decimal("0.00")
        if rng.random() > NO_DISCOUNT_SHARE:
            discount = rng.choice((Decimal("21.49"), Decimal("10.00"), Decimal("15.50")))
        total = (gross * (1 - discount / 100)).quantize(_CENT)
        status = {"invoiced": "Fatturato", "delivered": "Consegnato"}.get(stage, "Ordine aperto")
        document = {"invoiced": "Fattura:", "delivered": "Documento di trasporto:"}.get(
            stage, "Nessuno"
        )
        order_type = "Giornale" if stage == "draft" else "Ordine di vendita"
        if stage in ("open", "delivered", "invoiced") and rng.random() < 0.03:
            order_type = "Ordine ricorrente"
        transferred = stage not in ("draft", "pending")
        return Order(
            id=id_,
            order_number=number,
            account=account[0] if account else None,
            account_name=account[1] if account else recipient.name,
            delivery_name=recipient.name,
            delivery_address=address,
            created_at=created,
            delivery_date=created.date() + timedelta(days=rng.randint(1, 10)),
            purchase_order=purchase_order,
            customer_reference=_maybe(rng, 0.3, f"Rif. {rng.randint(1, 400)}/{created:%y}"),
            sales_status=status,
            order_type=order_type,
            document_status=document,
            sales_origin=rng.choice(SALES_ORIGINS),
            transfer_status={"draft": "Modifica", "pending": "In attesa di approvazione"}.get(
                stage, "Trasferito"
            ),
            transfer_date=created.date() + timedelta(days=rng.randint(0, 1))
            if transferred
            else None,
            completed_date=completed,
            quote=False,
            discount_percent=discount,
            gross_amount=gross,
            total_amount=total,
            gift_order=rng.random() < 0.01,
            email=_mailbox(rng, recipient.name or "studio") if rng.random() < 0.7 else None,
        )

    def ddt(self, id_: str, number: str, order: Order, delivered: date) -> Ddt:
        rng = self.rng
        assert order.order_number is not None
        mode = rng.choices([m for m, _ in DDT_MODES], weights=[w for _, w in DDT_MODES])[0]
        carrier = tracking_number = url = None
        if mode != "Mittente":
            # a DHL link was seen on a row whose mode says UPS Italia
            kind = "dhl" if mode == "UPS Italia" and rng.random() < 0.08 else mode
            carrier, tracking_number, url = self.tracking(kind)
        quantity = rng.choice((1, 2, 3, 5, 10, 11, 20, 30, 50))
        if rng.random() < 0.03:
            quantity = -1
        elif rng.random() < 0.02:
            quantity = rng.randint(1000, 1500)
        return Ddt(
            id=id_,
            ddt_number=number,
            delivery_date=delivered,
            order_number=order.order_number,
            order_account=order.account,
            account_name=order.account_name,
            delivery_name=order.delivery_name,
            delivery_address=order.delivery_address,
            quantity=quantity,
            customer_reference=order.customer_reference,
            purchase_order=order.purchase_order,
            tracking_carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=url,
            delivery_terms=DELIVERY_TERMS if rng.random() < 0.4 else None,
            delivery_mode=mode,
            attention_to=None,
            delivery_email=_delivery_email(rng, order.delivery_name or "studio"),
        )

    def tracking(self, kind: str) -> tuple[str, str, str]:
        """Link text word, tracking number and URL of a carrier's tracking link."""
        rng = self.rng
        if kind == "UPS Italia":
            # 1Z, the shipper's six characters, then ten digits
            shipper = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(6))
            number = f"1Z{shipper}{rng.randrange(10**10):010d}"
            return "Ups", number, ups_url(number)
        if kind == "dhl":
            number = str(rng.randrange(10**9, 10**10))
            return "dhl", number, dhl_url(number)
        number = str(rng.randrange(10**11, 10**12))
        return "fedex", number, fedex_url(number)

    def invoice(
        self, number: str, order: Order, issued: date, *, credit: bool, quantity: int
    ) -> Invoice:
        rng = self.rng
        balance = order.total_amount or _money(rng, 50, 2000)
        if credit:
            balance = -(balance * Decimal(rng.choice(("0.1", "0.25", "1")))).quantize(_CENT)
            quantity = -quantity
        if rng.random() < 0.3:
            balance = balance.quantize(Decimal("0.1"))  # prints "2.112,7"
        line_discount = (
            (order.gross_amount or balance) - (order.total_amount or balance)
        ).copy_abs()
        tax = (balance * Decimal("0.22")).quantize(_CENT)
        amount = balance + tax
        month_end = (issued.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        due = month_end + timedelta(days=60)
        closed = credit or (due < TODAY and rng.random() < 0.8) or rng.random() < 0.2
        settled_on = min(due, TODAY) if closed else None
        settled = amount if closed else Decimal(0)
        if rng.random() < 0.75:
            terms = f"{rng.choice(PAYMENT_TERMS_IBAN)} {italian.iban(rng)}"
        else:
            terms = rng.choice(PAYMENT_TERMS_PLAIN)
        payment_prefix = rng.choice(("INC", "INC", "INC", "NC", "CF1"))
        return Invoice(
            invoice_number=number,
            invoice_date=issued,
            account=order.account,
            billing_name=order.account_name,
            quantity=quantity,
            sales_balance=plain_decimal(balance),
            line_discount_sum=plain_decimal(line_discount),
            total_discount=Decimal(0),
            tax_sum=plain_decimal(tax),
            invoice_amount=plain_decimal(amount),
            purchase_order="Accredito" if credit else order.purchase_order,
            customer_reference=order.customer_reference,
            due_date=due,
            payment_terms=terms,
            days_past_due=(TODAY - due).days if not closed and due < TODAY else 0,
            settled_amount=plain_decimal(settled),
            last_payment_id=(
                f"{payment_prefix}/{settled_on:%y}{rng.randrange(1, 999999):06d}"
                if settled_on
                else None
            ),
            last_settlement_date=settled_on,
            closed_on=settled_on,
            remaining_amount=plain_decimal(amount - settled),
            order_number=order.order_number,
        )

    # -- mutation helpers --

    def new_record(self, t: ExportType) -> Record:
        """A plausible new record of ``t`` linked to existing records where it has links."""
        rng = self.rng
        ds = self.dataset
        customers = [c for c in ds.records(ExportType.CUSTOMERS) if isinstance(c, Customer)]
        orders = [o for o in ds.records(ExportType.ORDERS) if isinstance(o, Order)]
        if t is ExportType.CUSTOMERS:
            # The ERP numbers customers in creation order (spec v3): above every ID
            # it ever gave, deleted customers' included.
            newest = max(ds.top_customer_id, 59999)
            accounts = {c.account for c in customers if c.account}
            account = self.account(accounts) if rng.random() < 0.4 else None
            return self.customer(str(newest + rng.randint(1, 7)), account)
        if t is ExportType.PRODUCTS:
            taken = {p.article for p in ds.records(ExportType.PRODUCTS) if isinstance(p, Product)}
            figure, shank, size = rng.choice(italian.all_article_codes())
            article = self.fresh("article", 10020000, 10099999, taken)
            return self.product(
                article, figure, shank, size, self.fresh("product", 900000, 999999, set())
            )
        if t is ExportType.PRICES:
            products = [p for p in ds.records(ExportType.PRODUCTS) if isinstance(p, Product)]
            if not products:
                raise ValueError("cannot add a price without products")
            prices = [p for p in ds.records(ExportType.PRICES) if isinstance(p, Price)]
            keys = {p.key for p in prices}
            ids = {p.id for p in prices if p.id is not None}
            while True:
                price = self.price(
                    self.fresh("price", 90000, 99999, ids), rng.choice(products), PRICE_GROUPS[1]
                )
                if price.key not in keys:
                    return price
        if t is ExportType.ORDERS:
            if not customers:
                raise ValueError("cannot add an order without customers")
            taken = {o.id for o in orders}
            created = _moment(rng, TODAY)
            order_id = self.fresh("order", 80000, 99999, taken)
            po = str(rng.randint(5000, 9999))
            return self.order(
                order_id, None, rng.choice(customers), None, created, "pending", None, po
            )
        linked = [o for o in orders if o.order_number is not None]
        if not linked:
            raise ValueError(f"cannot add {t} without orders that have an order number")
        order = rng.choice(linked)
        if t is ExportType.DDT:
            ddts = [d for d in ds.records(ExportType.DDT) if isinstance(d, Ddt)]
            numbers = {d.ddt_number for d in ddts}
            while True:
                number = f"DDT/26{int(self.fresh('ddt_number', 900000, 999999, set())):06d}"
                if number not in numbers:
                    break
            ddt_id = self.fresh("ddt", 90000, 99999, {d.id for d in ddts if d.id})
            return self.ddt(ddt_id, number, order, TODAY)
        credit = rng.random() < 0.1
        prefix = "NC" if credit else "CF1"
        while True:
            number = f"{prefix}/26{self.fresh('invoice', 900000, 999999, set())}"
            if (t, number) not in ds:
                break
        return self.invoice(number, order, TODAY, credit=credit, quantity=5)

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
                    {"sales_this_year": _money(rng, 100, 30000)},
                    {"name": italian.practice_name(rng)[0]},
                )
            )
        if isinstance(record, Product):
            return rng.choice(
                (
                    {"stopped": not record.stopped},
                    {"purchase_price": _money(rng, 1.5, 40)},
                    {"modified_at": _moment(rng, TODAY), "modified_by": "admin"},
                    {"description": f"{record.description or record.catalogue_number} (nuova)"},
                )
            )
        if isinstance(record, Price):
            return rng.choice(
                ({"unit_price": _money(rng, 4, 60)}, {"net_price": not record.net_price})
            )
        if isinstance(record, Order):
            options: list[dict[str, Any]] = [
                {"total_amount": _money(rng, 40, 4000)},
                {"delivery_date": TODAY + timedelta(days=rng.randint(1, 20))},
                {"customer_reference": f"Rif. {rng.randint(1, 400)}/26"},
            ]
            if record.order_number is None:
                # a pending order gets its number: the same row, now under ORD/…
                taken = {
                    o.order_number
                    for o in self.dataset.records(ExportType.ORDERS)
                    if isinstance(o, Order)
                }
                number = f"ORD/26{int(self.fresh('order_number', 900000, 999999, set())):06d}"
                if number not in taken:
                    options.append(
                        {
                            "order_number": number,
                            "account": COOPERATIVE_ACCOUNT,
                            "account_name": COOPERATIVE_NAME,
                            "transfer_status": "Trasferito",
                        }
                    )
            else:
                options.append(
                    {"sales_status": "Consegnato", "document_status": "Documento di trasporto:"}
                )
            return rng.choice(options)
        if isinstance(record, Ddt):
            carrier, number, url = self.tracking("FedEx")
            return rng.choice(
                (
                    {
                        "delivery_mode": "FedEx",
                        "tracking_carrier": carrier,
                        "tracking_number": number,
                        "tracking_url": url,
                    },
                    {"delivery_date": TODAY},
                    {"quantity": rng.randint(1, 200)},
                )
            )
        remaining = record.remaining_amount or Decimal(0)
        return rng.choice(
            (
                {
                    "closed_on": TODAY,
                    "last_settlement_date": TODAY,
                    "settled_amount": record.invoice_amount,
                    "remaining_amount": Decimal(0),
                },
                {"remaining_amount": plain_decimal((remaining / 2).quantize(_CENT))},
                {"due_date": TODAY + timedelta(days=30)},
            )
        )


def fedex_url(number: str) -> str:
    return f"https://www.fedex.com/fedextrack/?trknbr={number}&locale=it_IT"


def ups_url(number: str) -> str:
    return (
        "https://www.ups.com/track?HTMLVersion=5.0&loc=it_IT&Requester=UPSHome"
        f"&tracknum={number}&ignore=&track.x=42&track.y=6/trackdetails"
    )


def dhl_url(number: str) -> str:
    return f"https://www.dhl.com/it-it/home/tracking.html?submit=1&tracking-id={number}"


class _Generator:
    """Builds a whole :class:`Dataset` in dependency order."""

    def __init__(self, rng: random.Random, scale: float) -> None:
        self.rng = rng
        self.counts = {t: max(MIN_COUNT, round(n * scale)) for t, n in BASE_COUNTS.items()}
        self.maker = _Maker(rng, Dataset())

    def build(self) -> Dataset:
        customers = self._customers()
        products = self._products()
        prices = self._prices(products)
        orders, ddts, invoices = self._orders(customers)
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

    def _customers(self) -> list[Customer]:
        n = self.counts[ExportType.CUSTOMERS]
        ids = sorted(self.rng.sample(range(20, 60000), n))
        cooperative = self.rng.randrange(n)
        accounts: set[str] = {COOPERATIVE_ACCOUNT}
        customers = []
        for index, id_ in enumerate(ids):
            if index == cooperative:
                customer = self.maker.customer(str(id_), COOPERATIVE_ACCOUNT)
                customer = dataclasses.replace(
                    customer,
                    name=COOPERATIVE_NAME,
                    description="Debitor",
                    type_code="Debitor",
                    vat_number=italian.partita_iva(self.rng),
                )
                customer = dataclasses.replace(customer, fiscal_code=customer.vat_number)
            else:
                account = None
                if self.rng.random() < 0.35:
                    account = self.maker.account(accounts)
                    accounts.add(account)
                customer = self.maker.customer(str(id_), account)
            customers.append(customer)
        return customers

    def _products(self) -> list[Product]:
        n = self.counts[ExportType.PRODUCTS]
        rng = self.rng
        # Some catalogue numbers come in two pack sizes: two articles, K1 and K2.
        doubles = n // 8
        combos = rng.sample(italian.all_article_codes(), n - doubles)
        numbers = rng.sample(range(1000, 99999), len(combos))
        entries: list[tuple[str, tuple[italian.Figure, str, str]]] = []
        for index, (combo, number) in enumerate(zip(combos, numbers, strict=True)):
            if index < doubles:
                entries.append((f"{number:06d}K1", combo))
                entries.append((f"{number:06d}K2", combo))
            elif rng.random() < 0.2:
                entries.append((f"{10000000 + number}", combo))
            else:
                entries.append((f"{number:06d}K1", combo))
        entries.sort(key=lambda entry: entry[0])
        ids = rng.sample(range(1000, 60000), len(entries))
        return [
            self.maker.product(article, *combo, str(id_))
            for (article, combo), id_ in zip(entries, ids, strict=True)
        ]

    def _prices(self, products: Sequence[Product]) -> list[Price]:
        n = self.counts[ExportType.PRICES]
        rng = self.rng
        base = min(n, len(products))
        picks: list[tuple[Product, tuple[str, str]]] = [
            (p, PRICE_GROUPS[0]) for p in products[:base]
        ]
        extra = rng.sample(range(len(products)), min(n - base, len(products)))
        picks += [(products[i], PRICE_GROUPS[1]) for i in sorted(extra)]
        prices = []
        value = rng.randint(1, 10)
        for product, group in picks:
            prices.append(self.maker.price(str(value), product, group))
            value += rng.choice((1, 1, 1, 2))
        return prices

    def _orders(
        self, customers: Sequence[Customer]
    ) -> tuple[list[Order], list[Ddt], list[Invoice]]:
        rng = self.rng
        n = self.counts[ExportType.ORDERS]
        n_ddt = self.counts[ExportType.DDT]
        n_invoices = self.counts[ExportType.INVOICES]
        accounts = [(c.account, c.name or "") for c in customers if c.account]
        others = [a for a in accounts if a[0] != COOPERATIVE_ACCOUNT] or accounts
        weights = [rng.paretovariate(1.5) for _ in customers]
        recipients = rng.choices(customers, weights=weights, k=n)
        start = datetime.combine(TODAY - timedelta(days=365), time(0))
        created = sorted(
            _moment(rng, (start + timedelta(days=rng.randrange(365))).date()) for _ in range(n)
        )
        pending = max(1, round(n * 0.02))
        drafts = max(1, round(n * 0.01))
        delivered = max(1, min(round(n * 0.85), n_ddt, n - pending - drafts))
        open_ = n - pending - drafts - delivered
        credit = max(1, round(n_invoices * 0.08))
        regular = n_invoices - credit
        invoiced = min(regular, delivered)
        # Oldest orders are the delivered ones, newest the pending ones.
        plan: list[tuple[Stage, int]] = [
            ("invoiced", invoiced),
            ("delivered", delivered - invoiced),
            ("open", open_),
            ("draft", drafts),
            ("pending", pending),
        ]
        stages = [stage for stage, k in plan for _ in range(k)]
        # invoiced orders spread over the year, not only the oldest
        head = stages[:delivered]
        rng.shuffle(head)
        stages[:delivered] = head
        ddt_per_order = [1] * delivered
        for _ in range(n_ddt - delivered):
            ddt_per_order[rng.randrange(delivered)] += 1
        order_ids = sorted(rng.sample(range(40000, 72000), n))
        ddt_ids = iter(sorted(rng.sample(range(1000, 99999), n_ddt)))
        purchase_orders = rng.sample(range(1000, 9999), n)
        sequences: dict[str, int] = {}

        def number(prefix: str, day: date) -> str:
            key = f"{prefix}/{day:%y}"
            sequences[key] = sequences.get(key, rng.randint(100, 400)) + rng.randint(1, 2)
            return f"{key}{sequences[key]:06d}"

        orders: list[Order] = []
        ddts: list[Ddt] = []
        invoice_plan: list[tuple[Order, date]] = []
        delivered_index = 0
        for index, (stage, recipient, moment) in enumerate(
            zip(stages, recipients, created, strict=True)
        ):
            numbered = stage not in ("draft", "pending")
            order_number = number("ORD", moment.date()) if numbered else None
            account: tuple[str, str] | None = None
            if stage != "pending":
                if rng.random() < COOPERATIVE_SHARE or not others:
                    account = (COOPERATIVE_ACCOUNT, COOPERATIVE_NAME)
                else:
                    account = rng.choice(others)
            deliveries: list[date] = []
            if stage in ("delivered", "invoiced"):
                day = moment.date()
                for _ in range(ddt_per_order[delivered_index]):
                    day += timedelta(days=rng.randint(1, 6))
                    deliveries.append(day)
                delivered_index += 1
            po = str(purchase_orders[index])
            if rng.random() < 0.05:
                po = f"{rng.choice(_PO_TEXTS)} {po}"
            order = self.maker.order(
                str(order_ids[index]),
                order_number,
                recipient,
                account,
                moment,
                stage,
                deliveries[-1] if deliveries else None,
                po,
            )
            orders.append(order)
            for day in deliveries:
                ddts.append(self.maker.ddt(str(next(ddt_ids)), number("DDT", day), order, day))
            if stage == "invoiced" and deliveries:
                invoice_plan.append((order, deliveries[-1] + timedelta(days=rng.randint(0, 20))))
        while len(invoice_plan) < regular and invoice_plan:
            order, day = rng.choice(invoice_plan)
            invoice_plan.append((order, day + timedelta(days=rng.randint(1, 15))))
        credit_plan = [
            (order, day + timedelta(days=rng.randint(5, 40)))
            for order, day in rng.sample(invoice_plan, min(credit, len(invoice_plan)))
        ]
        documents = [(o, d, False) for o, d in invoice_plan]
        documents += [(o, d, True) for o, d in credit_plan]
        documents.sort(key=lambda entry: entry[1])
        invoices: list[Invoice] = []
        for order, day, is_credit in documents:
            quantity = rng.randint(1, 60) if rng.random() < 0.9 else rng.randint(1000, 1500)
            invoice_number = number("NC" if is_credit else "CF1", day)
            invoices.append(
                self.maker.invoice(invoice_number, order, day, credit=is_credit, quantity=quantity)
            )
        # The list views show the newest documents first.
        orders.reverse()
        ddts.reverse()
        invoices.reverse()
        return orders, ddts, invoices
