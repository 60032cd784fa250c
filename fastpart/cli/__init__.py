"""The ``fastpart`` command line.

Examples::

    fastpart partition --partitions 12 order-1 order-2 order-3
    printf 'a\\nb\\n' | fastpart partition --partitions 12 --strategy librdkafka
    fastpart partition --partitions 6 --hex 00ff 0a0b
    fastpart compare --partitions 12 --strategies java,librdkafka,sarama --file keys.txt
    fastpart resize --from 12 --to 24 --file keys.txt
    fastpart strategies

Keys given as arguments or read from stdin / ``--file`` (one per line, the
line ending removed) are hashed as their UTF-8 bytes, as Java's
StringSerializer writes them; ``--hex`` reads each key as hex instead.
``python -m fastpart`` works the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Iterable, List, Optional, Sequence

from . import IMPLEMENTATION, __version__
from ._strategies import CODES, STRATEGIES

EXAMPLE_KEYS = ["order-1001", "order-1002", "customer-42", "b6f1f3c2-8d7a-4c1e-9d35-2f0f3e1b7a10", ""]


class CliError(Exception):
    """A user error: printed without a traceback, exit status 2."""


def _partitions(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 1 <= n <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"must be from 1 to 2147483647 (a Java int), got {n}")
    return n


def _strategy(text: str) -> str:
    if text not in CODES:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {text!r}; run 'fastpart strategies' to list them")
    return text


def _strategy_list(text: str) -> List[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    for s in names:
        _strategy(s)
    if len(names) < 2:
        raise argparse.ArgumentTypeError("give at least two strategies, comma-separated")
    return names


def _decode_key(raw: bytes, use_hex: bool, where: str) -> bytes:
    if not use_hex:
        return raw
    text = raw.strip()
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise CliError(f"{where}: {raw[:60]!r} is not hex (use pairs of 0-9a-f, or drop --hex)") from None


def _read_lines(stream: IO[bytes]) -> Iterable[bytes]:
    for line in stream:
        if line.endswith(b"\n"):
            line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
        yield line


def _collect_keys(args: argparse.Namespace, stdin: IO[bytes]) -> List[bytes]:
    if args.keys and getattr(args, "file", None):
        raise CliError("give keys either as arguments or with --file, not both")
    if args.keys:
        return [_decode_key(os.fsencode(k), args.hex, f"argument {i + 1}") for i, k in enumerate(args.keys)]
    if getattr(args, "file", None):
        try:
            with open(args.file, "rb") as f:
                return [_decode_key(l, args.hex, f"{args.file} line {i + 1}") for i, l in enumerate(_read_lines(f))]
        except OSError as exc:
            raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    return [_decode_key(l, args.hex, f"stdin line {i + 1}") for i, l in enumerate(_read_lines(stdin))]


def _show(key: Optional[bytes], use_hex: bool) -> str:
    if key is None:
        return "(null)"
    return key.hex() if use_hex else key.decode("utf-8", "backslashreplace")


def cmd_partition(args: argparse.Namespace, out: IO[str], stdin: IO[bytes]) -> int:
    from . import partition_many

    keys = _collect_keys(args, stdin)
    parts = partition_many(keys, args.partitions, strategy=args.strategy)
    if args.json:
        json.dump({"strategy": args.strategy, "num_partitions": args.partitions,
                   "records": [{"key": _show(k, args.hex), "partition": p} for k, p in zip(keys, parts)]},
                  out, indent=2)
        out.write("\n")
    else:
        for k, p in zip(keys, parts):
            out.write(f"{_show(k, args.hex)}\t{p}\n")
    return 0


def cmd_compare(args: argparse.Namespace, out: IO[str], stdin: IO[bytes]) -> int:
    from .report import compare

    keys = _collect_keys(args, stdin)
    report = compare(keys, args.partitions, args.strategies)
    if args.plot:
        try:
            report.plot(args.plot)
        except ImportError as exc:
            raise CliError(str(exc)) from None
        sys.stderr.write(f"chart written to {args.plot}\n")
    if args.json:
        json.dump(report.to_dict(limit=args.limit), out, indent=2)
        out.write("\n")
        return 0
    out.write(f"{len(keys)} keys, {args.partitions} partitions\n\n")
    out.write(report.table() + "\n")
    for p in report.pairs:
        if not p.different or args.limit == 0:
            continue
        out.write(f"\nkeys placed differently by {p.a} and {p.b} (first {min(args.limit, p.different)} of {p.different}):\n")
        for n, (_, key, x, y) in enumerate(report.differing(p.a, p.b)):
            if n >= args.limit:
                break
            out.write(f"  {_show(key, args.hex)!s}\t{p.a}={x}\t{p.b}={y}\n")
    return 0


def cmd_resize(args: argparse.Namespace, out: IO[str], stdin: IO[bytes]) -> int:
    from .report import resize_impact

    keys = _collect_keys(args, stdin)
    r = resize_impact(keys, args.old, args.new, strategy=args.strategy)
    if args.json:
        json.dump({"strategy": r.strategy, "from": r.old, "to": r.new, "moved": r.moved, "stayed": r.stayed,
                   "undetermined": r.undetermined, "moved_share": r.moved_share}, out, indent=2)
        out.write("\n")
    else:
        out.write(f"{r.strategy}: {r.old} -> {r.new} partitions: {r.moved} of {r.moved + r.stayed} keyed records "
                  f"move ({100 * r.moved_share:.1f}%), {r.undetermined} have no key-determined partition\n")
    return 0


def cmd_strategies(args: argparse.Namespace, out: IO[str], stdin: IO[bytes]) -> int:
    if args.json:
        json.dump({n: {"family": s.family, "formula": s.formula, "empty_key": s.empty_key, "null_key": s.null_key,
                       "aliases": list(s.aliases), "clients": list(s.clients)} for n, s in STRATEGIES.items()},
                  out, indent=2)
        out.write("\n")
        return 0
    for name, s in STRATEGIES.items():
        out.write(f"{name}\n    formula: {s.formula}\n    empty key: {s.empty_key}; None key: {s.null_key}\n")
        if s.aliases:
            out.write(f"    aliases: {', '.join(s.aliases)}\n")
        out.write(f"    clients: {'; '.join(s.clients)}\n")
    return 0


def _key_args(p: argparse.ArgumentParser, file_opt: bool = True) -> None:
    p.add_argument("keys", nargs="*", metavar="KEY", help="keys (default: read stdin, one per line)")
    p.add_argument("--hex", action="store_true", help="keys are hex-encoded bytes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    if file_opt:
        p.add_argument("--file", "-f", help="read keys from this file, one per line")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastpart",
        description="Kafka partitions exactly as the real clients compute them.",
        epilog="Example: fastpart partition --partitions 12 " + " ".join(EXAMPLE_KEYS[:3]),
    )
    parser.add_argument("--version", action="version",
                        version=f"fastpart {__version__} ({IMPLEMENTATION} core)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("partition", help="print each key with its partition")
    p.add_argument("--partitions", "-p", type=_partitions, required=True, help="the topic's partition count")
    p.add_argument("--strategy", "-s", type=_strategy, default="java", help="client partitioner (default: java)")
    _key_args(p)
    p.set_defaults(func=cmd_partition)

    c = sub.add_parser("compare", help="compare how client strategies place the same keys")
    c.add_argument("--partitions", "-p", type=_partitions, required=True)
    c.add_argument("--strategies", "-s", type=_strategy_list, default=["java", "librdkafka"],
                   help="comma-separated strategy names (default: java,librdkafka)")
    c.add_argument("--limit", type=int, default=20, help="differing keys to list per pair (default 20)")
    c.add_argument("--plot", metavar="PNG", help="also save a chart (needs matplotlib: fastpart[plot])")
    _key_args(c)
    c.set_defaults(func=cmd_compare)

    r = sub.add_parser("resize", help="how many keys move when the partition count changes")
    r.add_argument("--from", dest="old", type=_partitions, required=True)
    r.add_argument("--to", dest="new", type=_partitions, required=True)
    r.add_argument("--strategy", "-s", type=_strategy, default="java")
    _key_args(r)
    r.set_defaults(func=cmd_resize)

    s = sub.add_parser("strategies", help="list every client strategy")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_strategies)
    return parser


def main(argv: Optional[Sequence[str]] = None, stdout: Optional[IO[str]] = None,
         stdin: Optional[IO[bytes]] = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = stdout if stdout is not None else sys.stdout
    inp = stdin if stdin is not None else sys.stdin.buffer
    if args.command is None:
        parser.print_help(out)
        return 2
    try:
        return args.func(args, out, inp)
    except (CliError, ValueError, TypeError) as exc:
        sys.stderr.write(f"fastpart {args.command}: error: {exc}\n")
        return 2
    except BrokenPipeError:  # e.g. `fastpart partition ... | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
