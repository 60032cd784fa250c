"""``fastpart partition``: each key with its partition, as a streaming filter.

Reads the input batch by batch and writes (and flushes) each batch's lines
before reading the next, so ``... | fastpart partition -p 12 | ...`` works on
inputs of any size.  Output formats (``--output-format``; ``--json`` is
``jsonl``):

* ``tsv`` (default): ``key<TAB>partition``; a null key is an empty field
  (its partition is -1 under most strategies);
* ``csv``: a ``key,partition`` header, then RFC 4180 rows (a null key is an empty field);
* ``jsonl``: ``{"key": ..., "partition": ...}`` per key (a null key is ``null``).

The key is written as read (the text, the hex/base64 text, the number).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any, List, Union

from .. import partition_many
from ._common import (EXIT_OK, InputError, Output, add_input_options, add_output_options,
                      add_partitions_options, resolve_partitions, strategy_type, with_progress)
from ._readers import iter_batches


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "partition", help="print each key with its partition (a streaming filter)",
        description="Print each key with the partition a client strategy gives it.",
        epilog="Examples: fastpart partition -p 12 order-1 order-2 | "
               "cat keys.txt | fastpart partition -p 12 --strategy librdkafka | "
               "fastpart partition -p 12 --file orders.csv --column customer_id --output-format csv")
    add_partitions_options(p)
    p.add_argument("--strategy", "-s", type=strategy_type, default="java",
                   help="client partitioner (default: java); see 'fastpart strategies'")
    add_input_options(p)
    add_output_options(p, plot=False)
    p.add_argument("--output-format", choices=("tsv", "csv", "jsonl"), default=None,
                   help="tsv (default: key TAB partition), csv (with a header) or jsonl (same as --json)")
    p.set_defaults(func=run)


def _as_str(values: List[Any]) -> List[str]:
    return ["" if v is None else v if isinstance(v, str) else
            bytes(v).decode("utf-8", "backslashreplace") if isinstance(v, (bytes, bytearray)) else str(v)
            for v in values]


def _tsv(values: List[Any], parts: Any) -> Union[bytes, str]:
    """key TAB partition lines; bytes keys stay bytes (no decoding), joined at C speed."""
    suffix = {p: f"\t{p}\n" for p in set(parts)}
    if all(type(v) is bytes for v in values[:1]) and all(type(v) in (bytes, type(None)) for v in values[:64]):
        try:
            vals = values if None not in values else [b"" if v is None else v for v in values]
            ends = {p: t.encode() for p, t in suffix.items()}
            return b"".join(map(bytes.__add__, vals, map(ends.__getitem__, parts)))
        except TypeError:  # a mixed list after all
            pass
    return "".join(map(str.__add__, _as_str(values), map(suffix.__getitem__, parts)))


def _jsonl(values: List[Any], parts: Any) -> str:
    keys = ["null" if v is None else _json_str(v) if isinstance(v, str) else
            _json_str(bytes(v).decode("utf-8", "backslashreplace")) if isinstance(v, (bytes, bytearray)) else
            json.dumps(v) for v in values]
    return "".join(map('{{"key": {}, "partition": {}}}\n'.format, keys, parts))


def _csv(values: List[Any], parts: Any) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(zip(_as_str(values), parts))
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    n = resolve_partitions(args)
    assert n is not None
    fmt = "jsonl" if args.json else (args.output_format or "tsv")
    if args.json and args.output_format not in (None, "jsonl"):
        raise InputError(f"--json and --output-format {args.output_format} disagree; give one")
    total = 0
    with Output(args) as out:
        if fmt == "csv":
            out.write("key,partition\n")
        for batch in with_progress(args, iter_batches(args)):
            parts = partition_many(batch.keys, n, strategy=args.strategy)
            values = batch.value_list()
            text = _tsv(values, parts) if fmt == "tsv" else _jsonl(values, parts) if fmt == "jsonl" else \
                _csv(values, parts)
            out.write_bytes(text) if isinstance(text, bytes) else out.write(text)
            out.flush()
            total += len(batch)
    if total == 0:
        raise InputError("no keys in the input")
    return EXIT_OK
