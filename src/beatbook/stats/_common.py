"""Argument checks, JSON conversion and verdicts shared by the statistics modules (private).

Every check raises :class:`beatbook.errors.InputError` with one line naming
the argument, the value received and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from beatbook.errors import InputError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Direction = Literal["rise", "fall", "no clear change"]


def direction_of(significant: bool, ratio: float) -> Direction:
    """``"rise"``/``"fall"`` when ``significant`` and ``ratio`` is above/below 1, else no change."""
    if significant and ratio > 1:
        return "rise"
    if significant and ratio < 1:
        return "fall"
    return "no clear change"


def check_count(value: object, name: str) -> int:
    """Return ``value`` as a non-negative ``int`` or raise :class:`InputError`.

    Integral floats (``12.0``) and numpy integers are accepted; booleans,
    NaN, fractions and negative numbers are not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a whole number of crimes, got {value!r}")
    if isinstance(value, numbers.Integral):
        number = int(value)
    else:
        as_float = float(value)
        if not math.isfinite(as_float) or not as_float.is_integer():
            raise InputError(f"{name} must be a whole number of crimes, got {value!r}")
        number = int(as_float)
    if number < 0:
        raise InputError(f"{name} must be zero or more, got {number}")
    return number


def check_positive(value: object, name: str) -> float:
    """Return ``value`` as a finite ``float`` greater than zero or raise :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number greater than 0, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"{name} must be a finite number greater than 0, got {value!r}")
    return number


def check_probability(value: object, name: str) -> float:
    """Return ``value`` as a float strictly between 0 and 1 or raise :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number between 0 and 1, got {value!r}")
    number = float(value)
    if not 0.0 < number < 1.0:
        raise InputError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return number


def check_per(value: object) -> int:
    """Return the rate multiplier ``per`` as a positive ``int`` or raise :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) <= 0:
        raise InputError(f"per must be a whole number greater than 0 (e.g. 1000), got {value!r}")
    return int(value)


def json_value(value: object) -> object:
    """Convert one value to a plain, JSON-safe Python value.

    Non-finite floats (``inf``, ``nan``) become ``None`` because JSON has no
    representation for them; numpy scalars become Python scalars; other
    floats keep full precision.
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def dataclass_to_dict(obj: DataclassInstance) -> dict[str, Any]:
    """Return a dataclass instance's fields as a JSON-safe ``dict`` (see :func:`json_value`)."""
    return {f.name: json_value(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
