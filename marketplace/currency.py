"""Currencies the marketplace trades in, and the one rounding rule for amounts."""

from decimal import ROUND_HALF_UP, Decimal

import moneyed
from django.conf import settings
from djmoney.money import Money


def register_currencies() -> None:
    """Toman is not an ISO 4217 currency; py-moneyed must know it before a MoneyField uses it."""
    if "IRT" not in moneyed.CURRENCIES:
        moneyed.add_currency(code="IRT", numeric="None", sub_unit=1, name="Iranian toman", countries=["IRAN"])


def minor_unit(currency: str) -> int:
    return settings.CURRENCY_MINOR_UNITS.get(str(currency), 2)


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (toman and rial have none), half up."""
    exponent = Decimal(1).scaleb(-minor_unit(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


def totals_by_currency(amounts, *, if_none_in: str) -> list[Money]:
    """The sum of some Money amounts, one per currency (a user's contracts may be in several), in currency order;
    no amounts at all sum to zero in `if_none_in`."""
    totals: dict[str, Decimal] = {}
    for amount in amounts:
        currency = str(amount.currency)
        totals[currency] = totals.get(currency, Decimal(0)) + amount.amount
    return [Money(total, currency) for currency, total in sorted(totals.items())] or [Money(0, if_none_in)]


def to_rial(amount: Decimal, currency: str) -> int:
    """Rial, a whole number, as Iranian banks and Zarinpal count: toman ×10, exactly (a fraction of a rial is
    refused, never rounded)."""
    rial = Decimal(amount) * 10 if currency == "IRT" else Decimal(amount)
    if rial != rial.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of rial")
    return int(rial)
