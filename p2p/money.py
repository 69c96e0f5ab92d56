"""Money and reference codes: integer minor units plus an ISO 4217 code, checked against
pycountry. `Currency` and `CountryCode` are field types for schemas."""
from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator, BeforeValidator, Field

# Exponents that differ from the common 2 (ISO 4217).
_EXPONENTS = {"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
              "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
              "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3}


def currency_code(value: str) -> str:
    code = value.upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError("not an ISO 4217 currency code")
    return code


def country_code(value: str) -> str:
    code = value.upper()
    if pycountry.countries.get(alpha_2=code) is None and code != "XK":
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return code


def exponent(currency: str) -> int:
    """Digits after the decimal point: USD 2, JPY 0, KWD 3."""
    return _EXPONENTS.get(currency.upper(), 2)


def _upper(v):
    return v.upper() if isinstance(v, str) else v


Currency = Annotated[str, BeforeValidator(_upper), Field(min_length=3, max_length=3, description="ISO 4217"),
                     AfterValidator(currency_code)]
CountryCode = Annotated[str, BeforeValidator(_upper), Field(min_length=2, max_length=2,
                                                            description="ISO 3166-1 alpha-2"),
                        AfterValidator(country_code)]
