"""``fastpart skew``: is the topic balanced, and would another partition count help?

From a key sample with repeats (every record's key; optionally value sizes),
the load per partition in records and bytes for each strategy and candidate
count (``--partitions 12,24,48``), max/mean, CV, the hottest keys and the
partitions they pin, and a recommendation; ``--plot`` draws it.  Streams the
input through :class:`fastpart.skew.SkewAccumulator`.
"""

from __future__ import annotations

import argparse
from typing import Any, List

from ..skew import SkewAccumulator
from ._common import (EXIT_OK, InputError, UsageError, add_input_options, add_output_options,
                      check_plot_path, key_value_type, non_negative, partitions_type, save_plot,
                      strategy_list_type, with_progress)
from ._readers import iter_batches
from .detect import add_live_options, live_sample, sample_summary, use_live, write_summary


def counts_type(text: str) -> List[int]:
    """``12,24,48`` -> ``[12, 24, 48]`` (each a valid partition count)."""
    items = [t for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError("give one or more partition counts, comma-separated (e.g. 12,24,48)")
    return [partitions_type(t.strip()) for t in items]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "skew", help="load per partition of a key sample, hot keys, and which partition count keeps it even",
        description="Load per partition (records and bytes), max/mean, coefficient of variation and the "
                    "hottest keys for each strategy and candidate partition count, with a recommendation: "
                    "which count keeps max/mean under --max-over-mean, and which hot keys no count fixes.",
        epilog="Example: fastpart skew --partitions 12,24,48 --file traffic.csv --column key "
               "--value-size-column size --plot skew.png   (exit codes: 0 done, 2 usage or input error)")
    g = p.add_argument_group("partition counts")
    g.add_argument("--partitions", "-p", type=counts_type, metavar="N[,N...]",
                   help="candidate partition counts, comma-separated (default with a live topic: its count, "
                        "twice and four times it)")
    g.add_argument("--bootstrap-server", "-b", metavar="HOST:PORT", help="a live cluster (needs fastpart[live])")
    g.add_argument("--topic", "-t", metavar="NAME", help="the live topic (with --bootstrap-server)")
    g.add_argument("-X", dest="client_config", action="append", type=key_value_type, default=[],
                   metavar="KEY=VALUE", help="client setting for the live topic (librdkafka names, like kcat)")
    add_live_options(p)
    p.add_argument("--strategies", "-s", type=strategy_list_type, default=["java"],
                   help="comma-separated strategies (default: java)")
    p.add_argument("--max-over-mean", type=float, default=1.5, metavar="X",
                   help="the max/mean the recommendation aims under (default 1.5)")
    p.add_argument("--top", type=non_negative, default=10, metavar="N", help="hot keys to report (default 10)")
    add_input_options(p, extra_columns=True)
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.max_over_mean > 1:
        raise UsageError(f"--max-over-mean must be above 1, got {args.max_over_mean}")
    check_plot_path(args.plot)
    live = use_live(args)
    extra = {}
    if live:
        s = live_sample(args)
        counts = args.partitions or [s.num_partitions, 2 * s.num_partitions, 4 * s.num_partitions]
        acc = _accumulator(args, counts, True)
        acc.add(s.keys, s.value_sizes)
        extra["sample"] = sample_summary(s)
    else:
        if args.bootstrap_server or args.topic:
            raise UsageError("--bootstrap-server/--topic sample a live topic; with --file give --partitions")
        if not args.partitions:
            raise UsageError("give --partitions N[,N...] (candidate counts), or a live topic")
        acc = None
        for b in with_progress(args, iter_batches(args, optional_columns=("value_size",))):
            sizes = b.columns.get("value_size")
            if acc is None:
                acc = _accumulator(args, args.partitions, sizes is not None)
            if acc.with_bytes and sizes is None:
                raise InputError(f"{b.source}: no value size column in this input, but an earlier one had it")
            if sizes is not None and any(v is None for v in sizes):
                raise InputError(f"record #{b.start + sizes.index(None)} has no value size")
            try:
                acc.add(b.keys, sizes)
            except (TypeError, ValueError) as e:
                raise InputError(str(e)) from None
        if acc is None:
            raise InputError("no keys in the input: nothing to measure")
    assert acc is not None
    r = acc.result()
    if r.records == 0:
        raise InputError("no keys in the input: nothing to measure")
    write_summary(args, r, extra, lambda d: [d["hot_keys"], d["unfixable"]] + [x["hot_keys"] for x in d["loads"]])
    save_plot(args, r.plot)
    return EXIT_OK


def _accumulator(args: argparse.Namespace, counts: List[int], with_bytes: bool) -> SkewAccumulator:
    try:
        return SkewAccumulator(counts, strategies=args.strategies, max_over_mean=args.max_over_mean,
                               top=args.top, with_bytes=with_bytes)
    except ImportError as e:
        raise UsageError(str(e)) from None
    except ValueError as e:
        raise UsageError(str(e)) from None
