"""``fastpart strategies``: every client partitioner, its formula and clients."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._strategies import STRATEGIES
from ._common import EXIT_OK, Output


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("strategies", help="list every client strategy",
                              description="List every client partitioner fastpart reproduces.")
    p.add_argument("--json", action="store_true", help="one JSON object: strategy name -> details")
    p.add_argument("--output", "-o", metavar="PATH", help="write to PATH instead of standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Output(args) as out:
        if args.json:
            out.write(json.dumps({n: {"family": s.family, "formula": s.formula, "empty_key": s.empty_key,
                                      "null_key": s.null_key, "aliases": list(s.aliases),
                                      "clients": list(s.clients)} for n, s in STRATEGIES.items()}) + "\n")
            return EXIT_OK
        for name, s in STRATEGIES.items():
            out.write(f"{name}\n    formula: {s.formula}\n    empty key: {s.empty_key}; None key: {s.null_key}\n")
            if s.aliases:
                out.write(f"    aliases: {', '.join(s.aliases)}\n")
            out.write(f"    clients: {'; '.join(s.clients)}\n")
    return EXIT_OK
