"""The ``fastpart`` command line.

Examples::

    fastpart partition --partitions 12 order-1 order-2 order-3
    printf 'a\\nb\\n' | fastpart partition --partitions 12 --strategy librdkafka
    fastpart partition -p 12 --file orders.csv --column customer_id --json
    fastpart compare -p 12 --strategies java,librdkafka,sarama --file keys.parquet --column key
    fastpart resize --from 12 --to 24 --file keys.txt.gz
    fastpart strategies

Each subcommand is a module ``fastpart.cli.<name>`` with ``register(subparsers)``
(adds its parser, sets ``func=run``) and ``run(args) -> int``.  ``main()``
puts ``args.stdout`` (text) and ``args.stdin`` (binary) on the parsed
arguments, and turns :class:`~fastpart.cli._common.UsageError` /
:class:`~fastpart.cli._common.InputError` into exit code 2 with a one-line
message.  ``python -m fastpart`` works the same way.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import IO, List, Optional, Sequence

from .. import IMPLEMENTATION, __version__
from ._common import EXIT_OK, EXIT_USAGE, InputError, UsageError

SUBCOMMANDS = ("partition", "compare", "resize", "strategies", "detect", "skew")
"""Subcommand modules, in help order; a module that is not installed is skipped."""

EXAMPLE_KEYS = ["order-1001", "order-1002", "customer-42", "b6f1f3c2-8d7a-4c1e-9d35-2f0f3e1b7a10", ""]


def build_parser() -> argparse.ArgumentParser:
    """The parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="fastpart",
        description="Kafka partitions exactly as the real clients compute them.",
        epilog="Example: fastpart partition --partitions 12 " + " ".join(EXAMPLE_KEYS[:3])
        + "   (exit codes: 0 done, 1 a finding asked for with --fail-if-*, 2 usage or input error)",
    )
    parser.add_argument("--version", action="version",
                        version=f"fastpart {__version__} ({IMPLEMENTATION} core)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not written yet / not installed
            raise
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None, stdout: Optional[IO[str]] = None,
         stdin: Optional[IO[bytes]] = None) -> int:
    """Run the command line; returns the exit status (0 done, 1 finding, 2 error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(stdout if stdout is not None else sys.stdout)
        return EXIT_USAGE
    wrapped = stdout is None
    if stdout is None:
        from ._common import text_stdout

        stdout = text_stdout()
    args.stdout = stdout
    args.stdin = stdin if stdin is not None else sys.stdin.buffer
    try:
        rc: int = args.func(args)
        stdout.flush()
        return rc
    except (UsageError, InputError) as exc:
        _error(args.command, str(exc), stdout)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `fastpart partition ... | head`
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write("fastpart: interrupted\n")
        return 130
    finally:
        if wrapped and hasattr(stdout, "detach"):
            try:
                stdout.detach()  # leave sys.stdout's buffer open
            except (OSError, ValueError):
                pass


def _error(command: str, message: str, stdout: IO[str]) -> None:
    try:
        stdout.flush()
    except (OSError, ValueError):
        pass
    sys.stderr.write(f"fastpart {command}: error: {message}\n")


def _quiet_stdout() -> None:
    """After a closed pipe, point stdout at devnull so the exit flush stays silent."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


__all__: List[str] = ["SUBCOMMANDS", "build_parser", "main"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
