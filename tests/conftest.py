"""Test fixtures: every test that takes ``impl`` runs against both cores.

``impl`` is the compiled core (``fastpart._core``) or the pure twin
(``fastpart._core_py``).  Without the compiled core, the native half skips
with a reason -- or fails when ``FASTPART_REQUIRE_NATIVE=1`` (CI sets it).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# tests/typing/ holds user files for mypy/pyright (test_typing.py checks them);
# user_errors.py fails at import on purpose, so --doctest-modules must not import it.
collect_ignore = ["typing"]


def _native():
    try:
        return importlib.import_module("fastpart._core")
    except ImportError as exc:
        return exc


@pytest.fixture(scope="session", params=["native", "python"])
def impl(request):
    """The core under test: 'native' (Cython) or 'python' (the pure twin)."""
    if request.param == "python":
        return importlib.import_module("fastpart._core_py")
    mod = _native()
    if isinstance(mod, Exception):
        if os.environ.get("FASTPART_REQUIRE_NATIVE", "") not in ("", "0"):
            pytest.fail(f"FASTPART_REQUIRE_NATIVE=1 but the compiled core is missing: {mod}", pytrace=False)
        pytest.skip(f"the compiled core is not built ({mod}); run `pip install -e .` with a C compiler")
    return mod


@pytest.fixture(scope="session")
def native():
    """The compiled core alone (skips when it is not built)."""
    mod = _native()
    if isinstance(mod, Exception):
        if os.environ.get("FASTPART_REQUIRE_NATIVE", "") not in ("", "0"):
            pytest.fail(f"FASTPART_REQUIRE_NATIVE=1 but the compiled core is missing: {mod}", pytrace=False)
        pytest.skip(f"the compiled core is not built ({mod})")
    return mod


# The real-broker fixture (session-scoped; starts only when a broker test asks for it).
from broker_support import kafka_broker  # noqa: E402,F401
