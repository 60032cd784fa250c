"""``fastpart resize``: how many keys change partition when the partition count changes.

Streams the input through :class:`fastpart.report.ResizeAccumulator`;
``--fail-if-moved-over PCT`` exits 1 when more than PCT % of the keyed records
move (a CI gate before growing a topic).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Optional

from ..report import ResizeAccumulator, ResizeReport
from ._common import (EXIT_FINDING, EXIT_OK, Output, accumulate_keys, add_examples_options, add_input_options,
                      add_output_options, add_partitions_options, check_plot_path, key_text, note,
                      partitions_type, percent_type, resolve_partitions, save_plot, strategy_type,
                      write_found)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "resize", help="how many keys move when the partition count changes",
        description="How many keyed records land on another partition when the topic goes from "
                    "--from (or the live topic's count) to --to partitions.",
        epilog="Exit codes: 0 done, 1 --fail-if-moved-over and more moved, 2 usage or input error.")
    add_partitions_options(p)
    p.add_argument("--from", dest="partitions", type=partitions_type, metavar="N",
                   help="the current partition count (same as --partitions)")
    p.add_argument("--to", dest="new", type=partitions_type, required=True, metavar="M",
                   help="the new partition count")
    p.add_argument("--strategy", "-s", type=strategy_type, default="java",
                   help="client partitioner (default: java)")
    add_examples_options(p, default=10, help="moved keys to show (default 10)", what="moved")
    p.add_argument("--fail-if-moved-over", type=percent_type, metavar="PCT",
                   help="exit 1 if more than PCT %% of the keyed records move")
    add_input_options(p)
    add_output_options(p)
    p.set_defaults(func=run)


def to_dict(r: ResizeReport, examples: int, enc: str) -> dict:  # type: ignore[type-arg]
    return {"type": "summary", "strategy": r.strategy, "from": r.old, "to": r.new, "moved": r.moved,
            "stayed": r.stayed, "undetermined": r.undetermined, "moved_share": r.moved_share,
            "moved_keys": [{"index": i, "key": key_text(k, enc), "from": x, "to": y}
                           for i, k, x, y in r.examples[:examples]]}


def run(args: argparse.Namespace) -> int:
    check_plot_path(args.plot)
    old = resolve_partitions(args)
    assert old is not None
    enc = args.key_encoding
    with Output(args) as out:
        def on_moved(i: int, key: Optional[bytes], x: int, y: int) -> None:
            write_found(args, out, "moved", i, key, {"from": x, "to": y}, f"{x} -> {y}")

        acc = ResizeAccumulator(old, args.new, strategy=args.strategy, examples=args.examples,
                                on_moved=on_moved if args.all else None)
        accumulate_keys(args, acc, "resize", flush=out if args.all else None)
        r = acc.result()
        if args.json:
            out.write(json.dumps(to_dict(r, 0 if args.all else args.examples, enc)) + "\n")
        else:
            keyed = r.moved + r.stayed
            out.write(f"{r.strategy}: {r.old} -> {r.new} partitions: {r.moved:,} of {keyed:,} keyed records "
                      f"move ({100 * r.moved_share:.1f}%), {r.undetermined:,} have no key-determined partition\n")
            shown = [] if args.all else r.examples[: args.examples]
            if shown:
                out.write(f"\nmoved keys (first {len(shown)} of {r.moved:,}):\n")
                for i, k, x, y in shown:
                    out.write(f"  {key_text(k, enc)}\t{x} -> {y}\n")
    save_plot(args, r.plot)
    limit = args.fail_if_moved_over
    if limit is not None and 100 * r.moved_share > limit:
        note(args, f"fastpart resize: {100 * r.moved_share:.1f}% of keyed records move (over {limit:g}%)")
        return EXIT_FINDING
    return EXIT_OK
