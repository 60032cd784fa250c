"""One reader per ``--format``; see :mod:`fastpart.cli._readers` for the rules.

Each ``read_<format>(src, args, opts, wanted, extra, start)`` yields
:class:`~fastpart.cli._readers.Batch` objects.  Text formats (lines, kcat,
jsonl) are read here in 1 MiB blocks with the standard library; csv/tsv,
parquet and arrow by pyarrow in batches of at most 65,536 rows.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ._common import InputError
from ._convert import KeyOptions, arrow_keys, json_keys, text_keys
from ._readers import BLOCK, ROWS, Batch, _Source

Wanted = Dict[str, Tuple[Optional[str], bool]]


# --- text ---------------------------------------------------------------------

def _blocks(src: _Source, *, check_text: bool) -> Iterator[Tuple[List[bytes], int]]:
    """Lines of *src* in blocks: (lines, line number of the first, 1-based)."""
    rest = b""
    first = True
    lineno = 1
    read = getattr(src.stream, "read1", src.stream.read)  # what is there: a pipe filter does not wait
    while True:
        block = read(BLOCK)
        if not block:
            break
        if first:
            if block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
            first = False
        data = rest + block if rest else block
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        body, rest = data[:cut], data[cut + 1:]
        yield _split(body, src, lineno, check_text), lineno
        lineno += body.count(b"\n") + 1
    if rest:
        yield _split(rest, src, lineno, check_text), lineno


def _split(body: bytes, src: _Source, lineno: int, check_text: bool) -> List[bytes]:
    if check_text:
        bad = body.find(b"\x00")
        if bad >= 0:
            at = lineno + body.count(b"\n", 0, bad)
            raise InputError(f"{src.name} line {at}: a NUL byte; this is binary data, not text keys "
                             f"(a Parquet/Arrow file? use --format; binary keys? --key-type bytes "
                             f"or --key-encoding hex/base64)")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            at = lineno + body.count(b"\n", 0, exc.start)
            raise InputError(f"{src.name} line {at}: not UTF-8 text ({exc.reason} at byte "
                             f"{body[exc.start:exc.start + 4]!r}); keys that are raw bytes need "
                             f"--key-type bytes, or --key-encoding hex/base64") from None
    lines = body.split(b"\n")
    if b"\r" in body:
        lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]
    return lines


def _check_text(opts: KeyOptions) -> bool:
    return opts.key_type != "bytes"


def read_lines(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
               extra: Tuple[str, ...], start: int) -> Iterator[Batch]:
    for lines, _ in _blocks(src, check_text=_check_text(opts)):
        values: List[Optional[bytes]] = list(lines)
        yield Batch(text_keys(values, opts, src.name, start), values, src.name, start,
                    bytes_read=src.position())
        start += len(lines)


_KCAT_FIELDS = ("partition", "offset", "timestamp")


def read_kcat(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
              extra: Tuple[str, ...], start: int) -> Iterator[Batch]:
    for name, (given, _) in wanted.items():
        if given is not None:
            raise InputError(f"--{name.replace('_', '-')}-column does not apply to a kcat dump: its fields "
                             f"are fixed (key TAB partition [TAB offset [TAB timestamp]])")
    missing = [n for n, (_, req) in wanted.items() if req and n not in _KCAT_FIELDS]
    if missing:
        raise InputError(f"a kcat dump has no {missing[0]} field (it has key, partition, offset, timestamp)")
    nfields = 0
    marker = opts.null_marker
    empty_null = marker is None
    for lines, lineno in _blocks(src, check_text=_check_text(opts)):
        if lines and not lines[-1] and len(lines) == 1:
            continue
        if not nfields:
            nfields = min(4, lines[0].count(b"\t") + 1)
            if nfields < 2:
                raise InputError(f"{src.name} line {lineno}: not kcat output: expected key<TAB>partition"
                                 f"[<TAB>offset]; run kcat -C -f '%k\\t%p\\t%o\\n'")
        keys: List[Optional[bytes]] = []
        cols: Dict[str, List[Any]] = {n: [] for n in _KCAT_FIELDS[: nfields - 1]}
        lists = [cols[n] for n in _KCAT_FIELDS[: nfields - 1]]
        for i, line in enumerate(lines):
            parts = line.rsplit(b"\t", nfields - 1)
            if len(parts) != nfields:
                if not line:
                    raise InputError(f"{src.name} line {lineno + i}: an empty line in a kcat dump")
                raise InputError(f"{src.name} line {lineno + i}: expected {nfields} TAB-separated fields "
                                 f"like the first line, got {len(parts)}: {line[:80]!r}")
            k = parts[0]
            keys.append(None if (empty_null and not k) else k)
            try:
                for lst, v in zip(lists, parts[1:]):
                    lst.append(int(v))
            except ValueError:
                raise InputError(f"{src.name} line {lineno + i}: partition/offset/timestamp must be "
                                 f"integers: {line[:80]!r}") from None
        columns = {n: cols[n] for n in wanted if n in cols}
        for n, (_, req) in wanted.items():
            if req and n not in cols:
                raise InputError(f"{src.name}: this kcat dump has no {n} field; add it to kcat -f")
        yield Batch(text_keys(keys, opts, src.name, start), keys, src.name, start, columns,
                    bytes_read=src.position())
        start += len(keys)


def _dig(obj: Any, path: List[str]) -> Tuple[bool, Any]:
    for p in path:
        if not isinstance(obj, dict) or p not in obj:
            return False, None
        obj = obj[p]
    return True, obj


def read_jsonl(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
               extra: Tuple[str, ...], start: int) -> Iterator[Batch]:
    key_path = (args.column or "key").split(".")
    col_paths = {n: (given or n).split(".") for n, (given, _) in wanted.items()}
    for lines, lineno in _blocks(src, check_text=True):
        values: List[Any] = []
        cols: Dict[str, List[Any]] = {n: [] for n in wanted}
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise InputError(f"{src.name} line {lineno + i}: not JSON ({exc}); JSON Lines has one "
                                 f"object per line") from None
            if not isinstance(obj, dict):
                raise InputError(f"{src.name} line {lineno + i}: expected a JSON object, got "
                                 f"{type(obj).__name__}")
            found, v = _dig(obj, key_path)
            if not found:
                raise InputError(f"{src.name} line {lineno + i}: no field {'.'.join(key_path)!r} "
                                 f"(fields: {', '.join(list(obj)[:10])}); name the key with --column")
            values.append(v)
            for n, path in col_paths.items():
                ok, cv = _dig(obj, path)
                if not ok and wanted[n][1]:
                    raise InputError(f"{src.name} line {lineno + i}: no field {'.'.join(path)!r} for the "
                                     f"{n}; name it with --{n.replace('_', '-')}-column")
                cols[n].append(cv if ok else None)
        if not values:
            continue
        yield Batch(json_keys(values, opts, src.name, start), values, src.name, start,
                    {n: c for n, c in cols.items() if any(x is not None for x in c) or wanted[n][1]},
                    bytes_read=src.position())
        start += len(values)


# --- pyarrow ------------------------------------------------------------------

def _arrow_error(src: _Source, exc: Exception) -> InputError:
    text = str(exc).split("\n")[0]
    return InputError(f"{src.name}: cannot read as {src.fmt_label}: {text}")


def _pick(names: List[str], column: Optional[str], src: _Source, what: str) -> Tuple[str, List[str]]:
    """(top-level column, struct path below it) for a key/extra column name."""
    if column is None:
        return ("key" if "key" in names else names[0]), []
    if column in names:
        return column, []
    head, *rest = column.split(".")
    if rest and head in names:
        return head, rest
    raise InputError(f"{src.name}: no column {column!r} for the {what} (columns: {', '.join(names[:20])})")


def _columns_batches(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
                     names: List[str], batches: Iterator[Any], start: int) -> Iterator[Batch]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
    key_col, key_path = _pick(names, args.column, src, "key")
    extra: Dict[str, Tuple[str, List[str]]] = {}
    for n, (given, req) in wanted.items():
        if given is None and n not in names:
            if req:
                raise InputError(f"{src.name}: no {n!r} column (columns: {', '.join(names[:20])}); "
                                 f"name it with --{n.replace('_', '-')}-column")
            continue
        extra[n] = _pick(names, given or n, src, n)

    def get(rb: Any, col: str, path: List[str]) -> Any:
        arr = rb.column(rb.schema.get_field_index(col))
        for p in path:
            try:
                arr = pc.struct_field(arr, p)
            except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError, TypeError):
                raise InputError(f"{src.name}: column {col!r} has no field {p!r}") from None
        return arr

    try:
        for rb in batches:
            for off in range(0, rb.num_rows, ROWS):
                part = rb.slice(off, ROWS)
                values = get(part, key_col, key_path)
                if isinstance(values, pa.ChunkedArray):
                    values = values.combine_chunks()
                keys = arrow_keys(values, opts, src.name, start, args.column or key_col)
                cols = {n: _ints(get(part, c, p), src, n) for n, (c, p) in extra.items()}
                yield Batch(keys, values, src.name, start, cols, bytes_read=src.position())
                start += part.num_rows
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise _arrow_error(src, exc) from None


def _ints(arr: Any, src: _Source, name: str) -> List[Any]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.types as pt  # type: ignore[import-untyped,unused-ignore]
    if pt.is_timestamp(arr.type):
        arr = arr.cast(pa.timestamp("ms")).cast(pa.int64())
    elif pt.is_string(arr.type) or pt.is_large_string(arr.type):
        try:
            arr = arr.cast(pa.int64())
        except pa.ArrowInvalid:
            raise InputError(f"{src.name}: the {name} column holds text, not integers") from None
    elif not (pt.is_integer(arr.type) or pt.is_floating(arr.type)):
        raise InputError(f"{src.name}: the {name} column holds {arr.type} values, not numbers")
    out: List[Any] = arr.to_pylist()
    return out


def _delimited(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
               start: int, delimiter: str) -> Iterator[Batch]:
    import csv as pycsv

    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.csv as pacsv  # type: ignore[import-untyped,unused-ignore]
    src.fmt_label = "TSV" if delimiter == "\t" else "CSV"
    head = src.stream.peek(1 << 16)
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    try:
        cells = next(pycsv.reader([first.decode("utf-8")], delimiter=delimiter), [])
    except UnicodeDecodeError:
        raise InputError(f"{src.name}: the first line is not UTF-8 text; not a {src.fmt_label} file "
                         f"(use --format)") from None
    if args.no_header:
        names = [str(i) for i in range(len(cells))]
        read = pacsv.ReadOptions(block_size=BLOCK, column_names=names)
    else:
        names = cells
        read = pacsv.ReadOptions(block_size=BLOCK)
    if not names or names == [""]:
        raise InputError(f"{src.name}: empty {src.fmt_label} file")
    key_col, _ = _pick(names, args.column, src, "key")
    include = [key_col] + [(given or n) for n, (given, req) in wanted.items() if (given or n) in names]
    nulls = ([""] if opts.empty_is_null else []) + ([opts.null_marker] if opts.null_marker is not None else [])
    key_type = pa.binary() if opts.key_type == "bytes" else pa.string()
    conv = pacsv.ConvertOptions(include_columns=list(dict.fromkeys(include)), column_types={key_col: key_type},
                                strings_can_be_null=bool(nulls), null_values=nulls,
                                quoted_strings_can_be_null=False)
    try:
        reader = pacsv.open_csv(src.stream, read_options=read, convert_options=conv,
                                parse_options=pacsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _arrow_error(src, exc) from None
    names_read = [f.name for f in reader.schema]
    wanted_here = {n: (g, r) for n, (g, r) in wanted.items()}
    yield from _columns_batches(src, args, opts, wanted_here, names_read, iter(reader), start)


def read_csv(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
             extra: Tuple[str, ...], start: int) -> Iterator[Batch]:
    yield from _delimited(src, args, opts, wanted, start, ",")


def read_tsv(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
             extra: Tuple[str, ...], start: int) -> Iterator[Batch]:
    yield from _delimited(src, args, opts, wanted, start, "\t")


def _seekable(src: _Source) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    if src.codec is None and src.name != "stdin":
        return pa.OSFile(src.name, "r")  # not memory-mapped: mapped pages would count as resident memory
    return pa.BufferReader(src.stream.read())  # stdin or compressed: needs the whole file to seek


def read_parquet(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
                 extra: Tuple[str, ...], start: int) -> Iterator[Batch]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
    src.fmt_label = "Parquet"
    # memory: read column chunks through a 1 MiB buffer, and give freed memory back (the system
    # allocator) so the peak is about one row group's batch, not the pool's high-water mark
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        pf = pq.ParquetFile(_seekable(src), buffer_size=BLOCK, pre_buffer=False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _arrow_error(src, exc) from None
    names = list(pf.schema_arrow.names)
    key_col, _ = _pick(names, args.column, src, "key")
    cols = [key_col] + [_pick(names, g or n, src, n)[0] for n, (g, r) in wanted.items()
                        if r or (g or n).split(".")[0] in names]
    src.rows_total = pf.metadata.num_rows  # progress: the file is read apart from src.raw

    def counted(it: Iterator[Any]) -> Iterator[Any]:
        for rb in it:
            src.rows_done += rb.num_rows
            yield rb

    batches = counted(pf.iter_batches(batch_size=ROWS, columns=list(dict.fromkeys(cols))))
    yield from _columns_batches(src, args, opts, wanted, names, batches, start)


def read_arrow(src: _Source, args: argparse.Namespace, opts: KeyOptions, wanted: Wanted,
               extra: Tuple[str, ...], start: int) -> Iterator[Batch]:
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    import pyarrow.ipc as ipc  # type: ignore[import-untyped,unused-ignore]
    src.fmt_label = "Arrow IPC"
    head = src.stream.peek(6)[:6]
    try:
        if head.startswith(b"ARROW1"):
            f = ipc.open_file(_seekable(src))
            names = list(f.schema.names)
            batches: Iterator[Any] = (f.get_batch(i) for i in range(f.num_record_batches))
        else:
            r = ipc.open_stream(src.stream)
            names = list(r.schema.names)
            batches = iter(r)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _arrow_error(src, exc) from None
    yield from _columns_batches(src, args, opts, wanted, names, batches, start)
