"""Chooses the core: the compiled extension, or its pure-Python twin.

``FASTPART_NO_EXTENSIONS=1`` (read once, at import) forces the twin; so does
any interpreter other than CPython, and a missing or broken extension.
"""

from __future__ import annotations

import os
import platform

NO_EXTENSIONS = os.environ.get("FASTPART_NO_EXTENSIONS", "") not in ("", "0")

core = None
if not NO_EXTENSIONS and platform.python_implementation() == "CPython":
    try:
        from . import _core as core  # type: ignore[no-redef]
    except ImportError:  # no compiled core in this install
        core = None
if core is None:
    from . import _core_py as core  # type: ignore[no-redef]

IMPLEMENTATION: str = core.IMPLEMENTATION
