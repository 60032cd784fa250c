"""Type aliases of the public API (what type checkers read; nothing runs here).

``KeyLike`` is one key, ``Batch`` a batch of keys, ``StrategyArg`` the
``strategy=`` argument: one of the ``StrategyName`` literals, or any ``str``
(checked at run time).

Example:
    >>> from fastpart._typing import StrategyName
    >>> "java" in StrategyName.__args__
    True
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Tuple, TypeVar, Union

from ._strategies import StrategyName

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
elif TYPE_CHECKING:
    from typing_extensions import Buffer
else:  # run time before 3.12: the alias is only read by type checkers
    Buffer = memoryview


class ArrowArrayExportable(Protocol):
    """An object with ``__arrow_c_array__`` (pyarrow, nanoarrow, polars, ...)."""

    def __arrow_c_array__(self, requested_schema: Any = None) -> Tuple[Any, Any]: ...


class ArrowStreamExportable(Protocol):
    """An object with ``__arrow_c_stream__`` (chunked arrays, polars Series, ...)."""

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any: ...


if TYPE_CHECKING:
    import numpy

    # NumPy's stubs declare ndarray.__buffer__ only for Python >= 3.12: name it
    _Bytes = Union[bytes, bytearray, memoryview, Buffer, "numpy.ndarray[Any, Any]"]
    #: One key: bytes-like (any byte buffer), str (Java's UTF-8) or None (keyless).
    KeyLike = Union[_Bytes, str, None]
    #: Bytes to hash: a key without None.
    HashKey = Union[_Bytes, str]
    #: A batch: an iterable of keys, a NumPy array or buffer, an Arrow array or stream.
    Batch = Union[Iterable[KeyLike], _Bytes, ArrowArrayExportable, ArrowStreamExportable]
    #: ``strategy=``: a known name (offered by editors) or any str (checked at run time).
    StrategyArg = Union[StrategyName, str]
    #: The type of ``out=``: partition_many returns the buffer it was given.
    OutT = TypeVar("OutT", bound=Union[Buffer, "numpy.ndarray[Any, Any]"])
else:  # run time: only type checkers read these
    KeyLike = HashKey = Batch = StrategyArg = Any
    OutT = TypeVar("OutT")

__all__ = ["ArrowArrayExportable", "ArrowStreamExportable", "Batch", "Buffer", "HashKey", "KeyLike",
           "OutT", "StrategyArg", "StrategyName"]
