"""``fastpart detect``: which client wrote this topic?

From observed (key, partition) pairs -- a kcat dump (``kcat -C -f
'%k\\t%p\\t%o\\n'``), CSV/JSONL/Parquet with key and partition columns, or a
live topic (``--bootstrap-server``/``--topic``, sampled read-only) -- rank
every strategy by the keyed records it explains, streaming the input through
:class:`fastpart.detect.DetectAccumulator`.  ``--expect STRATEGY`` exits 1
when the data does not match (a CI gate).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, List, Optional

from ..detect import DetectAccumulator, Detection
from ._common import (EXIT_FINDING, EXIT_OK, InputError, Output, UsageError, add_input_options,
                      add_output_options, add_partitions_options, key_text, non_negative, note, resolve_partitions,
                      strategy_list_type, strategy_type, with_progress)
from ._readers import iter_batches


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "detect", help="name the client partitioner that placed observed records",
        description="Which client wrote this topic?  From (key, partition) pairs -- a kcat dump, a CSV/JSONL/"
                    "Parquet file with key and partition columns, or a live topic -- rank every strategy by the "
                    "keyed records it explains; report unexplained records, keyless placement, a change of "
                    "strategy (with offsets/timestamps) and a change of partition count.",
        epilog="Examples: kcat -C -b HOST:9092 -t orders -e -f '%k\\t%p\\t%o\\n' > orders.kcat; "
               "fastpart detect -p 12 --file orders.kcat   |   fastpart detect -b HOST:9092 -t orders "
               "--sample 50000 --expect java.   Exit codes: 0 done, 1 --expect not met, 2 usage or input error.")
    add_partitions_options(p)
    add_live_options(p)
    p.add_argument("--strategies", "-s", type=strategy_list_type, default=None,
                   help="comma-separated strategies to evaluate (default: every strategy)")
    p.add_argument("--expect", type=strategy_type, metavar="STRATEGY",
                   help="exit 1 unless STRATEGY explains at least --min-share of the keyed records "
                        "(records written before the topic grew count as explained)")
    p.add_argument("--min-share", type=float, default=99.0, metavar="PCT",
                   help="the share (percent) --expect needs (default 99)")
    p.add_argument("--examples", type=non_negative, default=10, metavar="N",
                   help="unexplained records to list (default 10)")
    add_input_options(p, extra_columns=True, positional_keys=False)
    add_output_options(p, plot=False)
    p.set_defaults(func=run)


def add_live_options(p: argparse.ArgumentParser) -> None:
    """``--sample N`` and ``--time-limit S`` for reading a live topic."""
    g = p.add_argument_group("live topic sampling")
    g.add_argument("--sample", type=non_negative, default=None, metavar="N",
                   help="read N records of --topic, spread over all partitions from the latest offsets back, "
                        "read-only (no offsets committed); default 100000 when no --file is given")
    g.add_argument("--time-limit", type=float, default=30.0, metavar="SECONDS",
                   help="stop sampling after this many seconds (default 30)")


def live_sample(args: argparse.Namespace) -> Any:
    """Sample the live topic of *args* (a :class:`fastpart.live.Sample`); errors become exit 2."""
    try:
        from .. import live
    except ImportError as e:  # pragma: no cover - fastpart.live ships with fastpart
        raise UsageError(str(e)) from None
    if args.time_limit <= 0:
        raise UsageError(f"--time-limit must be positive, got {args.time_limit}")
    n = 100_000 if args.sample is None else args.sample
    if n < 1:
        raise UsageError("--sample must be at least 1")
    try:
        s = live.sample(args.bootstrap_server, args.topic, dict(args.client_config or []), n, args.time_limit)
    except (ImportError, ValueError) as e:
        raise UsageError(str(e)) from None
    except live.LiveError as e:
        raise InputError(str(e)) from None
    note(args, f"sampled {len(s.keys):,} records of {s.topic} ({s.num_partitions} partitions) in "
               f"{s.seconds:.1f} s: {s.records_per_second:,.0f} records/s")
    if not s.keys:
        raise InputError(f"topic {s.topic} has no records to sample")
    return s


def sample_summary(s: Any) -> Dict[str, Any]:
    """The ``"sample"`` entry of a JSON summary: records, seconds and rate of a live sample (from
    :func:`live_sample`), and its topic."""
    return {"records": len(s.keys), "seconds": round(s.seconds, 3),
            "records_per_second": round(s.records_per_second, 1), "topic": s.topic}


def use_live(args: argparse.Namespace) -> bool:
    """True when the records come from the live topic (no --file)."""
    live_topic = bool(getattr(args, "bootstrap_server", None) or getattr(args, "topic", None))
    if args.sample is not None and not live_topic:
        raise UsageError("--sample reads a live topic: give --bootstrap-server and --topic")
    if args.sample is not None and args.file:
        raise UsageError("give either --sample (a live topic) or --file, not both")
    if live_topic and not (args.bootstrap_server and args.topic):
        raise UsageError("a live topic needs both --bootstrap-server and --topic")
    return live_topic and not args.file


def resolve_live_count(args: argparse.Namespace) -> Optional[int]:
    """``resolve_partitions`` with cluster errors as input errors (exit 2)."""
    try:
        return resolve_partitions(args)
    except (ImportError, ValueError) as e:
        raise UsageError(str(e)) from None
    except RuntimeError as e:  # fastpart.live.LiveError
        raise InputError(str(e)) from None


def _ints(values: Any, what: str, start: int) -> Any:
    import numpy as np

    if any(v is None for v in values):
        i = next(i for i, v in enumerate(values) if v is None)
        raise InputError(f"record #{start + i} has no {what}")
    try:
        return np.asarray(values, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"the {what} column holds something other than integers "
                         f"(e.g. {values[0]!r} near record #{start})") from None


def run(args: argparse.Namespace) -> int:
    if not 0 < args.min_share <= 100:
        raise UsageError(f"--min-share is a percentage above 0 and at most 100, got {args.min_share}")
    extra: Dict[str, Any] = {}
    if use_live(args):
        if args.partitions is not None:
            raise UsageError("give either --partitions or --bootstrap-server/--topic, not both")
        s = live_sample(args)
        acc = _accumulator(args, s.num_partitions)
        acc.add(s.keys, s.partitions, offsets=s.offsets, timestamps=s.timestamps)
        extra["sample"] = sample_summary(s)
    else:
        n = resolve_live_count(args)
        assert n is not None
        acc = _accumulator(args, n)
        batches = iter_batches(args, extra_columns=("partition",), optional_columns=("offset", "timestamp"))
        for b in with_progress(args, batches):
            parts = _ints(b.columns["partition"], "partition", b.start)
            offs = b.columns.get("offset")
            ts = b.columns.get("timestamp")
            try:
                acc.add(b.keys, parts, offsets=None if offs is None else _ints(offs, "offset", b.start),
                        timestamps=None if ts is None else _ints(ts, "timestamp", b.start))
            except ValueError as e:
                raise InputError(str(e)) from None
    r = acc.result()
    if r.records == 0:
        raise InputError("no records in the input: nothing to detect")
    write_summary(args, r, extra, lambda d: [d["unexplained"]["examples"]])
    return _gate(args, r)


def write_summary(args: argparse.Namespace, r: Any, extra: Dict[str, Any],
                  key_lists: Callable[[Dict[str, Any]], List[Any]]) -> None:
    """The report *r* on the output: with ``--json`` one summary object (``r.to_dict()``, then
    *extra*; the ``key`` of each item of the lists ``key_lists(dict)`` in the ``--key-encoding``),
    else ``r.summary()``."""
    with Output(args) as out:
        if args.json:
            d = r.to_dict()
            for items in key_lists(d):
                reencode(items, args.key_encoding)
            out.write(json.dumps({"type": "summary", **d, **extra}) + "\n")
        else:
            out.write(r.summary() + "\n")


def reencode(items: Any, encoding: str) -> None:
    """Write each item's ``key`` in the ``--key-encoding`` (hex/base64) instead of UTF-8 text."""
    if encoding == "utf8":
        return
    for item in items:
        if item.get("key_hex") is not None:
            item["key"] = key_text(bytes.fromhex(item["key_hex"]), encoding)


def _accumulator(args: argparse.Namespace, n: int) -> DetectAccumulator:
    try:
        return DetectAccumulator(n, strategies=args.strategies, examples=args.examples)
    except ImportError as e:
        raise UsageError(str(e)) from None


def _gate(args: argparse.Namespace, r: Detection) -> int:
    if args.expect is None:
        return EXIT_OK
    if r.matches(args.expect, args.min_share / 100):
        return EXIT_OK
    if not args.quiet:
        why = ("no keyed records" if r.keyed == 0 else
               f"{r.share(args.expect):.1%} of {r.keyed:,} keyed records match it (best: {r.best})")
        sys.stderr.write(f"fastpart detect: --expect {args.expect} not met: {why}\n")
    return EXIT_FINDING
