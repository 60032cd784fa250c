"""Every input the command line reads, as a stream of key batches.

:func:`iter_batches` yields :class:`Batch` objects of bounded size (about
1 MiB of text or 65,536 rows), so memory stays flat however large the input.

Formats (``--format``, else from the extension, else from magic bytes, else
``lines``):

=========  ===================================================================
lines      one key per line; a UTF-8 BOM is dropped, ``\\r\\n`` handled (no pyarrow)
csv, tsv   header row (or ``--no-header``); ``--column`` names the key (pyarrow.csv, streamed)
jsonl      one JSON object per line; ``--column a.b`` is a dotted path (default ``key``)
parquet    ``--column`` (dotted path into structs), read by row group batches (pyarrow)
arrow      Arrow IPC file or stream (``.arrow``, ``.feather``, ``.arrows``) (pyarrow)
kcat       ``kcat -C -f '%k\\t%p\\t%o\\n'`` output: key TAB partition [TAB offset [TAB
           timestamp]]; the field count is taken from the first line and the key
           is everything before the last separators (so a key may hold a TAB).
           kcat prints a null key and an empty key alike (an empty field, or
           NULL with ``-Z``: librdkafka hands a zero-length key over as NULL),
           so an empty field is a null key unless ``--null-marker`` is given
           (``-Z`` dumps: ``--null-marker NULL``).
=========  ===================================================================

gzip, bz2, xz and zstd (``zstandard``) are decompressed, by the extension or
the magic bytes.  Content that does not fit the format (binary bytes or
invalid UTF-8 in a text file, a Parquet/gzip/zip file read as text, a missing
column) is an :class:`InputError`: nothing is hashed.

Example:
    >>> import argparse, io
    >>> ns = argparse.Namespace(keys=[], file=["-"], input_format=None, column=None, no_header=False,
    ...     key_encoding="utf8", key_type="string", empty_is_null=False, null_marker=None,
    ...     stdin=io.BytesIO(b"\\xef\\xbb\\xbfa\\r\\nb\\n"))
    >>> [(b.keys, b.source, b.start) for b in iter_batches(ns)]
    [([b'a', b'b'], 'stdin', 0)]
"""

from __future__ import annotations

import argparse
import io
import os
from dataclasses import dataclass, field
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ._common import EXTRA_COLUMNS, InputError, UsageError
from ._convert import KeyOptions, text_keys

BLOCK = 1 << 20
ROWS = 65536

_COMPRESSED = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".zstd": "zstd"}
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))
_EXT_FORMAT = {".txt": "lines", ".lines": "lines", ".keys": "lines", ".csv": "csv", ".tsv": "tsv",
               ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
               ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".arrows": "arrow", ".ipc": "arrow",
               ".kcat": "kcat"}


@dataclass
class Batch:
    """A bounded run of consecutive records from one source.

    Attributes:
        keys: the key batch, ready for ``fastpart.partition_many``: a list of
            ``bytes``/``None`` (text formats), or a pyarrow ``Array`` of
            string/binary/fixed_size_binary type (nulls are null keys), or a
            NumPy ``S<w>`` array (numeric columns with ``--key-type``).  The
            ``--key-type``/``--key-encoding`` conversion is already applied.
            Use :meth:`key_list` for plain ``bytes``/``None`` values.
        values: the keys as written in the input (for display): a list of
            ``bytes``/``str``/numbers/``None`` or a pyarrow Array.
        columns: the extra columns asked for, by logical name
            (``"partition"``, ``"offset"``, ``"timestamp"``, ``"value_size"``),
            each a list as long as the batch (ints, floats or None).
        source: where the batch came from ("keys.csv", "stdin", "arguments").
        start: the index (0-based, over the whole input) of the first record.
        bytes_read: bytes of the current file read so far, if known.
    """

    keys: Any
    values: Any
    source: str
    start: int
    columns: Dict[str, List[Any]] = field(default_factory=dict)
    bytes_read: Optional[int] = None

    def __len__(self) -> int:
        return len(self.keys)

    def key_list(self) -> List[Optional[bytes]]:
        """The keys as a list of ``bytes`` (``None`` for null keys)."""
        k = self.keys
        if isinstance(k, list):
            return k
        if hasattr(k, "to_pylist"):
            return [v.encode("utf-8") if isinstance(v, str) else v for v in k.to_pylist()]
        return [bytes(v) for v in k.tolist()]

    def value_list(self) -> List[Any]:
        """The keys as written in the input, as Python values."""
        v = self.values
        return v if isinstance(v, list) else v.to_pylist()


def key_options(args: argparse.Namespace) -> KeyOptions:
    """The :class:`KeyOptions` of parsed arguments."""
    o = KeyOptions(encoding=getattr(args, "key_encoding", "utf8") or "utf8",
                   key_type=getattr(args, "key_type", "string") or "string",
                   empty_is_null=bool(getattr(args, "empty_is_null", False)),
                   null_marker=getattr(args, "null_marker", None))
    if o.encoding != "utf8" and o.key_type not in ("string", "bytes"):
        raise UsageError(f"--key-encoding {o.encoding} reads binary keys; it cannot go with --key-type "
                         f"{o.key_type} (numbers and UUIDs are read from their text)")
    return o


def iter_batches(args: argparse.Namespace, *, extra_columns: Sequence[str] = (),
                 optional_columns: Sequence[str] = ()) -> Iterator[Batch]:
    """Yield the input of a subcommand as :class:`Batch` objects.

    Keys come from the positional ``KEY`` arguments, else from every ``--file``
    in turn, else from ``args.stdin`` (a binary stream).  *extra_columns* (from
    :data:`EXTRA_COLUMNS`) must be found in the input, *optional_columns* are
    read when present; a column comes from ``--<name>-column`` or, if not
    given, a column of that very name (kcat: by position).
    """
    for name in tuple(extra_columns) + tuple(optional_columns):
        if name not in EXTRA_COLUMNS:
            raise ValueError(f"unknown extra column {name!r}; known: {EXTRA_COLUMNS}")
    opts = key_options(args)
    keys = list(getattr(args, "keys", None) or [])
    files = list(getattr(args, "file", None) or [])
    if keys and files:
        raise UsageError("give keys either as arguments or with --file, not both")
    if keys:
        if extra_columns:
            raise UsageError(f"keys given as arguments have no {extra_columns[0]} column; use --file")
        fields: List[Optional[bytes]] = [os.fsencode(k) for k in keys]
        yield Batch(text_keys(fields, opts, "arguments", 0), fields, "arguments", 0)
        return
    if not files:
        stdin = args.stdin
        if getattr(stdin, "isatty", lambda: False)():
            raise UsageError("no keys: give KEY arguments, --file PATH, or pipe keys into standard input")
        files = ["-"]
    start = 0
    for path in files:
        for batch in _read_source(path, args, opts, tuple(extra_columns), tuple(optional_columns), start):
            start += len(batch)
            yield batch


# --- opening ----------------------------------------------------------------

class _Source:
    """An opened input: a peekable binary stream of the decompressed content."""

    def __init__(self, path: str, stdin: IO[bytes]) -> None:
        self.name = "stdin" if path == "-" else path
        self.fmt_label = "input"
        self.rows_done = 0
        self.rows_total = 0
        self.size: Optional[int] = None
        self.raw: IO[bytes]
        if path == "-":
            self.raw = stdin
        else:
            try:
                self.raw = open(path, "rb")
            except OSError as exc:
                raise InputError(f"cannot read {path}: {exc.strerror}") from None
            try:
                self.size = os.fstat(self.raw.fileno()).st_size
            except OSError:
                pass
        stream: Any = self.raw if hasattr(self.raw, "peek") else io.BufferedReader(self.raw)  # type: ignore[type-var,unused-ignore]
        base, ext = os.path.splitext(path.lower())
        codec = _COMPRESSED.get(ext)
        head = stream.peek(8)[:8]
        magic = next((c for m, c in _MAGIC if head.startswith(m)), None)
        if codec is None:
            codec = magic
        self.ext = os.path.splitext(base)[1] if ext in _COMPRESSED else ext
        self.codec = codec
        self.stream: Any = _decompress(stream, codec, self.name) if codec else stream
        self.stream = self.stream if hasattr(self.stream, "peek") else io.BufferedReader(self.stream)

    def position(self) -> Optional[int]:
        """Bytes of the file read so far (None if unknown); Parquet sets ``rows_done``/``rows_total``."""
        if self.size is None:
            return None
        if self.rows_total:
            return int(self.size * self.rows_done / self.rows_total)
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self.name != "stdin":
            self.raw.close()


def _decompress(stream: IO[bytes], codec: str, name: str) -> IO[bytes]:
    if codec == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value,unused-ignore]
    if codec == "bz2":
        import bz2

        return bz2.BZ2File(stream)
    if codec == "xz":
        import lzma

        return lzma.LZMAFile(stream)
    try:
        import zstandard
    except ImportError:
        raise InputError(f"{name} is zstd-compressed: pip install zstandard (or 'fastpart[cli]')") from None
    reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    return reader


def _sniff(src: _Source) -> Tuple[Optional[str], bytes]:
    try:
        head = src.stream.peek(8)[:8]
    except (OSError, EOFError) as exc:
        raise InputError(f"{src.name}: cannot decompress ({src.codec}): {exc}") from None
    except Exception as exc:  # zlib.error, lzma.LZMAError, zstd errors: corrupt data
        raise InputError(f"{src.name}: cannot decompress ({src.codec}): {exc}") from None
    if head.startswith(b"PAR1"):
        return "parquet", head
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow", head
    if head.startswith(b"PK\x03\x04"):
        return "zip", head
    return None, head


def _read_source(path: str, args: argparse.Namespace, opts: KeyOptions, extra: Tuple[str, ...],
                 optional: Tuple[str, ...], start: int) -> Iterator[Batch]:
    src = _Source(path, args.stdin)
    try:
        sniffed, _ = _sniff(src)
        fmt = args.input_format or _EXT_FORMAT.get(src.ext) or sniffed or "lines"
        if sniffed == "zip":
            raise InputError(f"{src.name} is a zip archive; unzip it and give the files inside")
        if sniffed and sniffed != fmt:
            raise InputError(f"{src.name} looks like {sniffed.capitalize()} data, not {fmt}: "
                             f"use --format {sniffed}")
        if fmt in ("parquet", "arrow", "csv", "tsv"):
            try:
                import pyarrow  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
            except ImportError:
                raise InputError(f"--format {fmt} needs pyarrow: pip install 'fastpart[cli]'") from None
        from . import _formats

        reader = getattr(_formats, "read_" + fmt)
        wanted = _column_names(args, fmt, extra, optional)
        try:
            yield from reader(src, args, opts, wanted, extra, start)
        except (EOFError, OSError) as exc:
            raise InputError(f"{src.name}: cannot read ({src.codec or fmt}): {exc}") from None
    finally:
        src.close()


def _column_names(args: argparse.Namespace, fmt: str, extra: Tuple[str, ...],
                  optional: Tuple[str, ...]) -> Dict[str, Tuple[Optional[str], bool]]:
    """logical name -> (column name given or None, required)."""
    out: Dict[str, Tuple[Optional[str], bool]] = {}
    for name in extra + optional:
        given = getattr(args, f"{name}_column", None)
        out[name] = (given, name in extra)
    if fmt == "lines" and any(req for _, req in out.values()):
        need = [n for n, (_, r) in out.items() if r]
        raise UsageError(f"a lines file has only keys, no {need[0]} column: use --format kcat, csv, jsonl "
                         f"or parquet with a {need[0]} column")
    return out
