"""What every subcommand shares: options, errors, exit codes, output, progress.

Exit codes: :data:`EXIT_OK` (0) done, :data:`EXIT_FINDING` (1) a finding the
user asked to fail on (``--fail-if-...``), :data:`EXIT_USAGE` (2) a usage or
input error.  Raise :class:`UsageError` or :class:`InputError` anywhere in a
subcommand: ``main()`` prints ``fastpart <command>: error: <message>`` and
returns 2, without a traceback.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(prog="x")
    >>> add_partitions_options(p)
    >>> resolve_partitions(p.parse_args(["-p", "12"]))
    12
    >>> print(format_table([("a", "bb"), ("ccc", "1")], right=(1,)))
    a    bb
    ccc   1
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple

from .._strategies import CODES, canonical_name
from ._progress import Progress as Progress, with_progress as with_progress  # re-exported for the subcommands

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_USAGE = 2

FORMATS = ("lines", "csv", "tsv", "jsonl", "parquet", "arrow", "kcat")
KEY_ENCODINGS = ("utf8", "hex", "base64")
KEY_TYPES = ("string", "bytes", "int16", "int32", "int64", "float32", "float64", "uuid")
EXTRA_COLUMNS = ("partition", "offset", "timestamp", "value_size")
"""Logical names of the extra columns ``iter_batches(args, extra_columns=...)`` can read."""


class UsageError(Exception):
    """The command line is wrong (bad option combination): exit 2, no traceback."""


class InputError(Exception):
    """The input cannot be read as asked (missing file, wrong format, bad key): exit 2, no traceback."""


# --- argument types -----------------------------------------------------------

def partitions_type(text: str) -> int:
    """A partition count: an int from 1 to 2**31-1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 1 <= n <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"must be from 1 to 2147483647 (a Java int), got {n}")
    return n


def non_negative(text: str) -> int:
    """An int >= 0."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def percent_type(text: str) -> float:
    """A percentage from 0 to 100 (a trailing % is allowed)."""
    try:
        v = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= v <= 100:
        raise argparse.ArgumentTypeError(f"must be from 0 to 100, got {v:g}")
    return v


def strategy_type(text: str) -> str:
    """A strategy name or alias, returned as its table name."""
    if text not in CODES:
        raise argparse.ArgumentTypeError(f"unknown strategy {text!r}; run 'fastpart strategies' to list them")
    return canonical_name(text)


def strategy_list_type(text: str) -> List[str]:
    """Comma-separated strategies (table names; duplicates dropped)."""
    names = [strategy_type(s.strip()) for s in text.split(",") if s.strip()]
    return list(dict.fromkeys(names))


def key_value_type(text: str) -> Tuple[str, str]:
    """``key=value`` for ``-X`` client settings."""
    k, sep, v = text.partition("=")
    if not sep or not k.strip():
        raise argparse.ArgumentTypeError(f"expected key=value (e.g. security.protocol=SASL_SSL), got {text!r}")
    return k.strip(), v


# --- option groups ------------------------------------------------------------

def add_input_options(parser: argparse.ArgumentParser, *, extra_columns: bool = False,
                      positional_keys: bool = True) -> None:
    """Where the keys come from and how to read them (see ``fastpart.cli._readers``)."""
    if positional_keys:
        parser.add_argument("keys", nargs="*", metavar="KEY",
                            help="keys on the command line (default: --file, or standard input)")
    g = parser.add_argument_group("input")
    g.add_argument("--file", "-f", action="append", metavar="PATH", default=None,
                   help="read keys from PATH ('-' = standard input); repeat for several files. "
                        "gzip/bz2/xz/zstd are decompressed (by extension or magic bytes)")
    g.add_argument("--format", dest="input_format", choices=FORMATS, default=None,
                   help="input format (default: from the extension: .txt lines, .csv, .tsv, "
                        ".jsonl/.ndjson/.json, .parquet, .arrow/.feather/.arrows, .kcat; otherwise lines)")
    g.add_argument("--column", "-c", metavar="NAME",
                   help="the key column: CSV/TSV header name (or 0-based index with --no-header), "
                        "JSON field (dotted path for nested objects: a.b.c), Parquet/Arrow column "
                        "(default: a column named 'key', else the first column; for JSON the field 'key')")
    g.add_argument("--no-header", action="store_true",
                   help="CSV/TSV files have no header row; columns are named 0, 1, 2, ...")
    g.add_argument("--key-encoding", choices=KEY_ENCODINGS, default="utf8",
                   help="how key text is written: utf8 (the text's UTF-8 bytes, default), "
                        "hex or base64 (the decoded bytes are the key)")
    g.add_argument("--hex", dest="key_encoding", action="store_const", const="hex",
                   help="same as --key-encoding hex")
    g.add_argument("--key-type", choices=KEY_TYPES, default="string",
                   help="the producer's key serializer: string (StringSerializer, default), bytes "
                        "(ByteArraySerializer: raw bytes, not checked as text), int16/int32/int64 "
                        "(Short/Integer/LongSerializer), float32/float64, uuid (UUIDSerializer)")
    g.add_argument("--empty-is-null", action="store_true",
                   help="an empty field is a null key (default: the empty key b'')")
    g.add_argument("--null-marker", metavar="TEXT",
                   help="this exact text is a null key (e.g. NULL, \\N); in kcat dumps an empty key "
                        "field is null unless --null-marker is given (kcat -Z: --null-marker NULL; kcat "
                        "prints null and empty keys alike)")
    if extra_columns:
        g.add_argument("--partition-column", metavar="NAME", help="column with each record's partition")
        g.add_argument("--offset-column", metavar="NAME", help="column with each record's offset")
        g.add_argument("--timestamp-column", metavar="NAME", help="column with each record's timestamp")
        g.add_argument("--value-size-column", metavar="NAME", help="column with each record's value size in bytes")


def add_partitions_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--partitions/-p N``, or a live topic (``--bootstrap-server``, ``--topic``, ``-X``)."""
    g = parser.add_argument_group("partition count")
    g.add_argument("--partitions", "-p", type=partitions_type, metavar="N",
                   help="the topic's partition count, 1 to 2147483647"
                        + ("" if not required else " (or give a live topic)"))
    g.add_argument("--bootstrap-server", "-b", metavar="HOST:PORT",
                   help="read the partition count of --topic from this cluster (needs fastpart[live])")
    g.add_argument("--topic", "-t", metavar="NAME", help="the live topic (with --bootstrap-server)")
    g.add_argument("-X", dest="client_config", action="append", type=key_value_type, default=[],
                   metavar="KEY=VALUE",
                   help="client setting for the live topic, e.g. -X security.protocol=SASL_SSL "
                        "-X sasl.mechanism=PLAIN (librdkafka names, like kcat)")
    parser.set_defaults(_partitions_required=required)


def resolve_partitions(args: argparse.Namespace) -> Optional[int]:
    """The partition count: ``--partitions``, or read from the live topic."""
    n: Optional[int] = getattr(args, "partitions", None)
    bootstrap = getattr(args, "bootstrap_server", None)
    topic = getattr(args, "topic", None)
    if n is not None:
        if bootstrap or topic:
            raise UsageError("give either --partitions or --bootstrap-server/--topic, not both")
        return n
    if bootstrap or topic:
        if not (bootstrap and topic):
            raise UsageError("a live topic needs both --bootstrap-server and --topic")
        try:
            from .. import live
        except ImportError:
            raise UsageError("live topics need fastpart.live (pip install 'fastpart[live]'); "
                             "give --partitions N instead") from None
        config = dict(getattr(args, "client_config", None) or [])
        try:
            count = live.partition_count(bootstrap, topic, config)
        except ImportError as exc:
            raise UsageError(f"live topics need confluent-kafka: pip install 'fastpart[live]' ({exc}); "
                             f"or give --partitions N") from None
        except (ValueError, RuntimeError) as exc:  # fastpart.live.LiveError is a RuntimeError
            raise InputError(f"topic {topic!r} on {bootstrap}: {exc}") from None
        return int(count)
    if getattr(args, "_partitions_required", True):
        raise UsageError("give --partitions N (the topic's partition count), or --bootstrap-server and --topic")
    return None


def add_examples_options(parser: argparse.ArgumentParser, *, default: int, help: str, what: str) -> None:
    """``--examples/--limit N`` (how many of the keys found the report lists; *help* describes it)
    and ``--all`` (write every *what* key as it is found, through :func:`write_found`)."""
    parser.add_argument("--examples", "--limit", dest="examples", type=non_negative, default=default, metavar="N",
                        help=help)
    parser.add_argument("--all", action="store_true", help=f"write every {what} key, as found (streamed)")


def add_output_options(parser: argparse.ArgumentParser, *, plot: bool = True) -> None:
    """``--json``, ``--output PATH``, ``--quiet`` and (optionally) ``--plot PATH``."""
    g = parser.add_argument_group("output")
    g.add_argument("--json", action="store_true",
                   help="JSON Lines: one object per key for 'partition', one summary object for reports")
    g.add_argument("--output", "-o", metavar="PATH", help="write the output to PATH instead of standard output")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no notes on standard error")
    if plot:
        g.add_argument("--plot", metavar="PATH",
                       help="also save a chart: PNG or SVG by the extension (needs fastpart[plot])")


# --- output -------------------------------------------------------------------

class Output:
    """The text destination: ``--output PATH`` or the command's standard output.

    Use as a context manager; :meth:`write` and :meth:`flush` pass through.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.path: Optional[str] = getattr(args, "output", None)
        self._stream: IO[str] = args.stdout
        self._own = False

    def __enter__(self) -> "Output":
        if self.path and self.path != "-":
            try:
                self._stream = open(self.path, "w", encoding="utf-8", newline="\n")
            except OSError as exc:
                raise InputError(f"cannot write {self.path}: {exc.strerror}") from None
            self._own = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._own:
            self._stream.close()

    @property
    def is_terminal(self) -> bool:
        """True if the output goes to a terminal (then tables are aligned for a person)."""
        isatty = getattr(self._stream, "isatty", None)
        return bool(isatty and isatty())

    def write(self, text: str) -> None:
        try:
            self._stream.write(text)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise InputError(f"cannot write {self.path or 'the output'}: {exc.strerror}") from None

    def write_bytes(self, data: bytes) -> None:
        """Write bytes as they are (to the binary buffer under a text stream, when there is one)."""
        buf = getattr(self._stream, "buffer", None)
        if buf is None:
            self.write(data.decode("utf-8", "backslashreplace"))
            return
        try:
            self._stream.flush()
            buf.write(data)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise InputError(f"cannot write {self.path or 'the output'}: {exc.strerror}") from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise InputError(f"cannot write {self.path or 'the output'}: {exc.strerror}") from None


class KeyAccumulator(Protocol):
    """What :func:`accumulate_keys` feeds: ``add(keys)`` per batch, and the count so far."""

    num_keys: int

    def add(self, keys: Any) -> None: ...


def accumulate_keys(args: argparse.Namespace, acc: KeyAccumulator, what: str,
                    flush: Optional[Output] = None) -> None:
    """Feed every batch of the input's keys to ``acc.add``, under the progress bar; *flush*
    (the ``--all`` output) is flushed after each batch.  An input without keys is an
    :class:`InputError` ("no keys in the input: nothing to *what*")."""
    from ._readers import iter_batches  # not at the top: _readers imports this module

    for batch in with_progress(args, iter_batches(args)):
        acc.add(batch.keys)
        if flush is not None:
            flush.flush()
    if acc.num_keys == 0:
        raise InputError(f"no keys in the input: nothing to {what}")


def write_found(args: argparse.Namespace, out: Output, kind: str, index: int, key: Optional[bytes],
                fields: Dict[str, Any], text: str) -> None:
    """One key found, written as it is found (``--all``): with ``--json`` the object
    ``{"type": kind, "index": index, "key": ..., **fields}``, else the line ``key<TAB>text``.

    Example:
        >>> args = argparse.Namespace(json=True, key_encoding="hex", output=None, stdout=sys.stdout)
        >>> write_found(args, Output(args), "moved", 7, b"ab", {"from": 1, "to": 3}, "1 -> 3")
        {"type": "moved", "index": 7, "key": "6162", "from": 1, "to": 3}
    """
    shown = key_text(key, args.key_encoding)
    if args.json:
        out.write(json.dumps({"type": kind, "index": index, "key": shown, **fields}) + "\n")
    else:
        out.write(f"{shown}\t{text}\n")


def note(args: argparse.Namespace, text: str) -> None:
    """A line for the person on standard error (nothing with ``--quiet``)."""
    if not getattr(args, "quiet", False):
        sys.stderr.write(text.rstrip("\n") + "\n")


def format_table(rows: Sequence[Sequence[str]], *, right: Iterable[int] = ()) -> str:
    """Rows of cells as aligned text; columns in *right* are right-aligned."""
    if not rows:
        return ""
    r = set(right)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.rjust(w) if i in r else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def check_plot_path(path: Optional[str]) -> None:
    """Fail early (before reading input) for a chart path that cannot be written."""
    if not path:
        return
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg"):
        raise UsageError(f"--plot {path}: the chart is PNG or SVG, chosen by the extension (.png or .svg)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--plot {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--plot {path}: the folder {folder} is not writable")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'fastpart[plot]'") from None


def save_plot(args: argparse.Namespace, draw: Callable[[str], Any]) -> None:
    """Run ``draw(path)`` for ``--plot PATH``; a write failure is an input error (exit 2)."""
    path = getattr(args, "plot", None)
    if not path:
        return
    try:
        draw(path)
    except OSError as exc:
        raise InputError(f"cannot write the chart {path}: {exc.strerror or exc}") from None
    note(args, f"chart written to {path}")


def key_text(key: Optional[bytes], encoding: str) -> Optional[str]:
    """A key as text in the given ``--key-encoding`` (None stays None).

    Example:
        >>> key_text(b"\\x00\\xff", "hex"), key_text(b"ab", "base64"), key_text(b"h\\xc3\\xa9", "utf8")
        ('00ff', 'YWI=', 'hé')
    """
    if key is None:
        return None
    if encoding == "hex":
        return key.hex()
    if encoding == "base64":
        import base64

        return base64.b64encode(key).decode("ascii")
    return key.decode("utf-8", "backslashreplace")


def text_stdout() -> IO[str]:
    """Standard output as UTF-8 text with \\n line ends, whatever the locale."""
    buf = getattr(sys.stdout, "buffer", None)
    if buf is None:
        return sys.stdout
    return io.TextIOWrapper(buf, encoding="utf-8", errors="backslashreplace", newline="\n",
                            line_buffering=False, write_through=False)


def summary_counts(d: Dict[str, int]) -> str:
    """``{"a": 1200, "b": 3}`` -> ``'a 1,200, b 3'``."""
    return ", ".join(f"{k} {v:,}" for k, v in d.items())
