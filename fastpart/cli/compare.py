"""``fastpart compare``: where client strategies put the same keys on different partitions.

Streams the input through :class:`fastpart.report.CompareAccumulator` (one
``partition_many`` call per strategy and batch), keeping counters, per-partition
loads and ``--examples N`` differing keys per pair; ``--all`` writes every
differing key as it is found.  ``--fail-if-divergent`` exits 1 when any pair
places a keyed record differently (a CI gate).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, List, Optional

from ..report import Comparison, CompareAccumulator
from ._common import (EXIT_FINDING, EXIT_OK, Output, UsageError, accumulate_keys, add_examples_options,
                      add_input_options, add_output_options, add_partitions_options, check_plot_path,
                      format_table, key_text, note, resolve_partitions, save_plot, strategy_list_type,
                      write_found)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare", help="compare how client strategies place the same keys",
        description="Compare how client strategies place the same keys: per pair of strategies, keys on "
                    "the same partition, on different ones, and with no key-determined partition.",
        epilog="Exit codes: 0 done, 1 --fail-if-divergent and some keys differ, 2 usage or input error.")
    add_partitions_options(p)
    p.add_argument("--strategies", "-s", type=strategy_list_type, default=["java", "librdkafka:consistent_random"],
                   help="two or more comma-separated strategies (default: java,librdkafka)")
    add_examples_options(p, default=20, help="differing keys to show per pair (default 20; 0 for none)",
                         what="differing")
    p.add_argument("--fail-if-divergent", action="store_true",
                   help="exit 1 if any pair places a keyed record on different partitions")
    add_input_options(p)
    add_output_options(p)
    p.set_defaults(func=run)


def summary_text(r: Comparison, examples: int, encoding: str) -> str:
    """The report as text: the pairs, the load per strategy, and example keys."""
    lines = [f"{r.num_keys:,} keys, {r.num_partitions:,} partitions", ""]
    rows = [("strategy A", "strategy B", "same", "different", "undetermined", "agree")]
    for p in r.pairs:
        rows.append((p.a, p.b, f"{p.same:,}", f"{p.different:,}", f"{p.undetermined:,}",
                     f"{100 * p.agreement:.1f}%"))
    lines += [format_table(rows, right=(2, 3, 4, 5)), ""]
    rows = [("strategy", "keyed", "max/mean", "CV", "hottest partition", "empty partitions")]
    for s in r.strategies:
        st = r.load(s)
        rows.append((s, f"{st.total:,}", f"{st.max_over_mean:.3f}", f"{st.cv:.3f}",
                     f"{st.hottest} ({st.max:,} keys)", f"{st.empty:,}"))
    lines.append(format_table(rows, right=(1, 2, 3, 5)))
    for p in r.pairs:
        if not p.different or examples == 0:
            continue
        shown = p.examples[:examples]
        lines.append(f"\nkeys placed differently by {p.a} and {p.b} (first {len(shown)} of {p.different:,}):")
        for i, key, x, y in shown:
            lines.append(f"  {key_text(key, encoding)}\t{p.a}={x}\t{p.b}={y}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    if len(args.strategies) < 2:
        raise UsageError("give at least two different strategies, comma-separated (e.g. -s java,librdkafka)")
    check_plot_path(args.plot)
    n = resolve_partitions(args)
    assert n is not None
    enc = args.key_encoding
    with Output(args) as out:
        def on_diff(a: str, b: str, i: int, key: Optional[bytes], x: int, y: int) -> None:
            write_found(args, out, "different", i, key, {"a": a, "b": b, a: x, b: y}, f"{a}={x}\t{b}={y}")

        acc = CompareAccumulator(n, args.strategies, examples=args.examples,
                                 on_different=on_diff if args.all else None)
        accumulate_keys(args, acc, "compare", flush=out if args.all else None)
        r = acc.result()
        if args.json:
            d = r.to_dict(limit=args.examples)
            if enc != "utf8":
                for pair in d["pairs"]:
                    for k in pair["differing_keys"]:
                        k["key"] = None if k["key_hex"] is None else key_text(bytes.fromhex(k["key_hex"]), enc)
            out.write(json.dumps({"type": "summary", **d}) + "\n")
        else:
            if args.all:
                out.write("\n")
            out.write(summary_text(r, 0 if args.all else args.examples, enc))
    save_plot(args, r.plot)
    divergent: List[str] = [f"{p.a}/{p.b}" for p in r.pairs if p.different]
    if args.fail_if_divergent and divergent:
        note(args, f"fastpart compare: keys placed differently by {', '.join(divergent)}")
        return EXIT_FINDING
    return EXIT_OK
