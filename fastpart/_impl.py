"""Chooses the core: the compiled extension, or its pure-Python twin.

``FASTPART_NO_EXTENSIONS=1`` (read once, at import) forces the twin; so does
any interpreter other than CPython, and a missing or broken extension.
"""

from __future__ import annotations

import os
import platform
from types import ModuleType

NO_EXTENSIONS = os.environ.get("FASTPART_NO_EXTENSIONS", "") not in ("", "0")


def _load() -> ModuleType:
    if not NO_EXTENSIONS and platform.python_implementation() == "CPython":
        try:
            from . import _core

            return _core
        except ImportError:  # no compiled core in this install
            pass
    from . import _core_py

    return _core_py


core: ModuleType = _load()
IMPLEMENTATION: str = core.IMPLEMENTATION
