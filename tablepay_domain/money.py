"""Money in integer minor units with an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass

# ISO 4217 minor units for the currencies that are not two-decimal.
_ZERO_DECIMAL = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "UYI",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
_THREE_DECIMAL = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_TWO_DECIMAL = {
    "AED",
    "AFN",
    "ALL",
    "AMD",
    "ANG",
    "AOA",
    "ARS",
    "AUD",
    "AWG",
    "AZN",
    "BAM",
    "BBD",
    "BDT",
    "BGN",
    "BMD",
    "BND",
    "BOB",
    "BRL",
    "BSD",
    "BTN",
    "BWP",
    "BYN",
    "BZD",
    "CAD",
    "CDF",
    "CHF",
    "CNY",
    "COP",
    "CRC",
    "CUP",
    "CVE",
    "CZK",
    "DKK",
    "DOP",
    "DZD",
    "EGP",
    "ERN",
    "ETB",
    "EUR",
    "FJD",
    "FKP",
    "GBP",
    "GEL",
    "GHS",
    "GIP",
    "GMD",
    "GTQ",
    "GYD",
    "HKD",
    "HNL",
    "HTG",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "IRR",
    "JMD",
    "KES",
    "KGS",
    "KHR",
    "KPW",
    "KYD",
    "KZT",
    "LAK",
    "LBP",
    "LKR",
    "LRD",
    "LSL",
    "MAD",
    "MDL",
    "MKD",
    "MMK",
    "MNT",
    "MOP",
    "MRU",
    "MUR",
    "MVR",
    "MWK",
    "MXN",
    "MYR",
    "MZN",
    "NAD",
    "NGN",
    "NIO",
    "NOK",
    "NPR",
    "NZD",
    "PAB",
    "PEN",
    "PGK",
    "PHP",
    "PKR",
    "PLN",
    "QAR",
    "RON",
    "RSD",
    "RUB",
    "SAR",
    "SBD",
    "SCR",
    "SDG",
    "SEK",
    "SGD",
    "SHP",
    "SLE",
    "SOS",
    "SRD",
    "SSP",
    "STN",
    "SYP",
    "SZL",
    "THB",
    "TJS",
    "TMT",
    "TOP",
    "TRY",
    "TTD",
    "TWD",
    "TZS",
    "UAH",
    "USD",
    "UYU",
    "UZS",
    "VES",
    "WST",
    "XCD",
    "YER",
    "ZAR",
    "ZMW",
    "ZWL",
}
MINOR_UNITS: dict[str, int] = {
    **{code: 0 for code in _ZERO_DECIMAL},
    **{code: 2 for code in _TWO_DECIMAL},
    **{code: 3 for code in _THREE_DECIMAL},
}


class UnknownCurrency(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency {code!r}: use an ISO 4217 code such as EUR or USD")
        self.code = code


def normalize_currency(code: str) -> str:
    """Upper-case ISO code, or UnknownCurrency."""
    upper = (code or "").strip().upper()
    if upper not in MINOR_UNITS:
        raise UnknownCurrency(code)
    return upper


def minor_units(currency: str) -> int:
    return MINOR_UNITS[normalize_currency(currency)]


@dataclass(frozen=True, order=True)
class Money:
    """An amount in the currency's smallest unit (cents, yen, fils)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money amount must be an int of minor units, got {self.amount!r}")
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int")
        return Money(self.amount * factor, self.currency)

    def percent(self, percent: int) -> Money:
        """`percent` % of this amount, rounded half-up to the smallest chargeable step (integers only)."""
        step = charge_step(self.currency)
        return Money((self.amount * percent * 2 + 100 * step) // (200 * step) * step, self.currency)

    def to_decimal_string(self) -> str:
        """'12.50' for 1250 EUR, '1500' for 1500 JPY, '1.250' for 1250 KWD."""
        digits = MINOR_UNITS[self.currency]
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 10**digits)
        return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"


def charge_step(currency: str) -> int:
    """The smallest amount a card payment can move, in minor units.

    Stripe charges three-decimal currencies (KWD, BHD, JOD, OMR, TND) only in
    multiples of 10 minor units (0.010), so prices, tips and donations keep to it.
    """
    return 10 if minor_units(currency) == 3 else 1


def to_hundredths(amount: int, currency: str) -> int:
    """An amount in minor units as hundredths of the major unit, the unit R-Keeper counts in.

    Exact or refused: 1 JPY is 100 hundredths; 1.230 KWD is 123 hundredths, but
    1.235 KWD has no exact value in hundredths and raises ValueError.
    """
    digits = minor_units(currency)
    if digits <= 2:
        scale: int = 10 ** (2 - digits)
        return amount * scale
    factor: int = 10 ** (digits - 2)
    if amount % factor:
        raise ValueError(
            f"{amount} minor units of {normalize_currency(currency)} cannot be written in hundredths without rounding"
        )
    return amount // factor


def from_hundredths(hundredths: int, currency: str) -> int:
    """The inverse of to_hundredths: hundredths of the major unit as minor units (exact or ValueError)."""
    digits = minor_units(currency)
    if digits >= 2:
        scale: int = 10 ** (digits - 2)
        return hundredths * scale
    factor: int = 10 ** (2 - digits)
    if hundredths % factor:
        raise ValueError(f"{hundredths} hundredths of {normalize_currency(currency)} is not a whole minor unit")
    return hundredths // factor
