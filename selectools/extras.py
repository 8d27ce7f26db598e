"""Optional dependencies, imported at the point of use, naming the extra when one is missing.

Public for adapters, connectors and plugins: call `require()` where a feature
first needs its package, never at `import selectools` time, so the core stays
light and a missing package says what to install:

    sdk = require("openai", extra="openai", feature="OpenAIProvider")
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

__all__ = ["install_hint", "require"]


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import `module`, or explain which selectools extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module
        raise MissingDependencyError(install_hint(missing, extra=extra, feature=feature)) from None


def install_hint(missing: str, *, extra: str, feature: str) -> str:
    """The sentence a missing extra raises with: what is missing and the install line.

    selectools is installed from its repository (the name on the public package
    index belongs to another project), so the line installs from a checkout.
    """
    return (
        f"{feature} needs the '{missing}' package, which is not installed. Install the "
        f"'{extra}' extra from your selectools checkout: pip install -e \".[{extra}]\""
    )
