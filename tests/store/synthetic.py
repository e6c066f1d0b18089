"""Large, fast-to-build record sets for the crash and concurrency tests.

``prices(n, 0)`` is a table's state A; ``prices(n, 1)`` the next export:
every tenth price changed, the last 2 % gone, 5 % new rows. Deterministic,
and quick enough to build in a subprocess (no simulator needed).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from archid.records import Price

#: The clock of every apply in these tests, so that two applies of the same
#: records leave byte-identical tables.
FIXED = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED


def price(i: int, cents: int) -> Price:
    return Price(
        id=str(100000 + i),
        account_code=f"{i % 900:06d}",
        account=f"C{i % 900:05d}",
        account_description=f"Studio Dentistico {i % 997} di Rossi Mario",
        item_selection=f"H1.{i % 1000:03d}.016",
        item_description=f"Fresa in carburo di tungsteno {i % 53}",
        from_date=date(2026, 1, 1),
        to_date=date(2154, 12, 31),
        qty_from=Decimal("1"),
        qty_to=None,
        price_unit="1",
        unit_price=Decimal(cents) / 100,
        currency="EUR",
        net_price_brasseler=Decimal(cents * 9) / 1000,
    )


def prices(n: int, version: int) -> list[Price]:
    if version == 0:
        return [price(i, 1000 + i % 5000) for i in range(n)]
    kept = n - n // 50
    out = [price(i, 1000 + i % 5000 + (7 if i % 10 == 0 else 0)) for i in range(kept)]
    out += [price(n + i, 2000 + i) for i in range(n // 20)]
    return out
