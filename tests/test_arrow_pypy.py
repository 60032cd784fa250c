"""Arrow input where ctypes.pythonapi is missing (PyPy): a clear TypeError, not a crash.

Needs no pyarrow (PyPy has no pyarrow wheels): any object exporting
``__arrow_c_array__`` / ``__arrow_c_stream__`` reaches the pure core's Arrow
reader, which cannot open the capsules without CPython's C API.  On CPython
the missing ``pythonapi`` is simulated; on PyPy it is real.
"""

from __future__ import annotations

import ctypes

import pytest

from fastpart import _arrow_py, _core_py


class ArrayExport:
    """A producer of the Arrow PyCapsule interface (its capsules are never opened here)."""

    def __arrow_c_array__(self, requested_schema=None):
        return (object(), object())


class StreamExport:
    def __arrow_c_stream__(self, requested_schema=None):
        return object()


@pytest.fixture
def no_pythonapi(monkeypatch):
    monkeypatch.setattr(_arrow_py, "_getter", None)
    if hasattr(ctypes, "pythonapi"):  # CPython: take it away; PyPy: it is not there
        monkeypatch.delattr(ctypes, "pythonapi")


@pytest.mark.parametrize("keys", [ArrayExport(), StreamExport()], ids=["array", "stream"])
def test_arrow_without_pythonapi_says_what_to_do(no_pythonapi, keys):
    with pytest.raises(TypeError, match=r"ctypes\.pythonapi.*to_pylist\(\)"):
        _core_py.partition_many(keys, 12)
