"""Unit conversion with pint: lengths, masses, temperatures, speeds, data sizes, and more."""

from __future__ import annotations

import re
import threading
from typing import Any

from ..extras import require
from ..tools.tool import tool
from ..tools.toolkit import ToolkitError

__all__ = ["convert_units"]

_UNIT_TEXT = re.compile(r"^[A-Za-z0-9 _/*^.()°µ%-]{1,60}$")
_lock = threading.Lock()
_registry: Any = None


def unit_registry() -> Any:
    """One pint registry per process (building one takes a moment)."""
    global _registry
    with _lock:
        if _registry is None:
            pint = require("pint", extra="toolbox", feature="convert_units")
            _registry = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
        return _registry


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
    """Convert a quantity between units, e.g. 5 'mile' to 'km', 100 'degF' to 'degC'.

    Args:
        value: the number to convert.
        from_unit: its unit, e.g. 'km/h', 'pound', 'degC', 'GiB', 'kWh'.
        to_unit: the unit to convert to (same dimension).
    """
    for text in (from_unit, to_unit):
        if not _UNIT_TEXT.match(text):
            raise ToolkitError(
                f"{text!r} is not a unit name. Use names or symbols such as 'meter', 'km/h', "
                f"'degC', 'lb', 'GiB'."
            )
    pint = require("pint", extra="toolbox", feature="convert_units")
    registry = unit_registry()
    try:
        converted = registry.Quantity(value, from_unit).to(to_unit)
    except pint.errors.DimensionalityError:
        source, target = registry.Unit(from_unit), registry.Unit(to_unit)
        raise ToolkitError(
            f"Cannot convert {from_unit} ({source.dimensionality}) to {to_unit} "
            f"({target.dimensionality}): they measure different things."
        ) from None
    except (pint.errors.UndefinedUnitError, AttributeError, AssertionError, ValueError) as exc:
        raise ToolkitError(f"Unknown unit in {from_unit!r} or {to_unit!r} ({exc}).") from None
    return {"value": float(converted.magnitude), "unit": f"{converted.units:~}"}
