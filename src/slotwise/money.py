"""Amounts of money: integers in a currency's minor unit, shown in its major unit.

slotwise keeps every amount as an integer count of the currency's minor
unit (cents, fils, or whole yen). How many digits that unit has is its
ISO 4217 exponent: 2 for most currencies, 0 for the yen, 3 for the Kuwaiti
dinar. The conversions here are exact integer arithmetic, never floats.

    >>> format_minor(1234, "eur"), format_minor(1000, "JPY"), format_minor(1500, "KWD")
    ('12.34 EUR', '1000 JPY', '1.500 KWD')
    >>> to_major(-5, "EUR")
    '-0.05'
"""

from __future__ import annotations

__all__ = ["exponent", "format_minor", "to_major"]

_EXPONENTS = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def _code(currency: str) -> str:
    code = currency.upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError(f"a currency is a three-letter ISO 4217 code, not {currency!r}")
    return code


def exponent(currency: str) -> int:
    """Digits of ``currency``'s minor unit (ISO 4217): 2 unless it is one of the exceptions.

    Case-insensitive; anything but three letters raises ``ValueError``.
    """
    return _EXPONENTS.get(_code(currency), 2)


def to_major(amount_minor: int, currency: str) -> str:
    """``amount_minor`` as a decimal string in the major unit, without the currency ("12.34")."""
    digits = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**digits)
    if not digits:
        return f"{sign}{major}"
    return f"{sign}{major}.{minor:0{digits}d}"


def format_minor(amount_minor: int, currency: str) -> str:
    """``amount_minor`` for a person: the major amount, then the code ("12.34 EUR").

    Thousands are not separated, so the text reads the same in every language.
    """
    return f"{to_major(amount_minor, currency)} {_code(currency)}"
