"""The plain-words rendering of a :class:`fastpart.detect.Detection`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional

if TYPE_CHECKING:
    from .detect import Detection


def show_key(key: Optional[bytes], limit: int = 40) -> str:
    """A key as a reader wants to see it: quoted text, or hex for binary.

    Example:
        >>> show_key(b"order-1"), show_key(b"\\x00\\xff"), show_key(None)
        ("'order-1'", '0x00ff', 'null')
    """
    if key is None:
        return "null"
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return repr(text if len(text) <= limit else text[:limit] + "...")
    h = key.hex()
    return "0x" + (h if len(h) <= 2 * limit else h[: 2 * limit] + "...")


def show_time(ms: int) -> str:
    """A record timestamp: UTC date and time when it looks like epoch milliseconds.

    Example:
        >>> show_time(1700000000123), show_time(42)
        ('2023-11-14 22:13:20.123 UTC', '42')
    """
    if not 10**11 < ms < 10**14:
        return str(ms)
    import datetime

    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d} UTC"


def summary(d: "Detection") -> str:
    """One finding per line (see ``Detection.summary``)."""
    lines: List[str] = [f"{d.records:,} records on {d.num_partitions} partitions: {d.keyed:,} keyed, "
                        f"{d.keyless.count:,} keyless ({d.keyless.share:.1%})"]
    shown = [g for g in d.groups if g.explained > 0][:4]
    for i, g in enumerate(shown):
        head = f"{g.share:.1%} of {d.keyed:,} keyed records match" if i == 0 else f"{g.share:.1%} match"
        lines.append(f"{head} {g.describe()}")
        if len(g.strategies) > 1:
            lines.append(f"    (identical on this data: {', '.join(g.strategies)})")
    if d.keyed and not shown:
        lines.append(f"no strategy explains any of the {d.keyed:,} keyed records")
    u = d.unexplained
    if u.count:
        ex = ", ".join(f"{show_key(e.key)} on {e.partition}" + ("" if e.offset is None else f"@{e.offset}")
                       for e in u.examples[:3])
        lines.append(f"unexplained: {u.count:,} keyed records ({u.share:.1%}) match no strategy "
                     f"(a custom partitioner or an explicit partition=)" + (f", e.g. {ex}" if ex else ""))
    elif d.keyed:
        lines.append("unexplained: none")
    for r in d.resized:
        lines.append(f"partition count changed: ~{r.records:,} records ({r.share:.1%}) match {r.strategy} at "
                     f"{r.from_count} partitions: written before the topic grew from {r.from_count} "
                     f"to {d.num_partitions}")
    if d.keyed and not d.resized:
        lines.append("partition count: no sign of a change")
    if d.mixed:
        lines.append(d.mixed)
        per_part = [s for s in d.segments if s.partition is not None]
        if per_part:
            firsts: Dict[int, int] = {}
            for s in per_part:  # the first offset of the second strategy, per partition
                if s.strategies != per_part[0].strategies and s.partition is not None:
                    firsts.setdefault(s.partition, s.first)
            shown_p = sorted(firsts.items())[:12]
            more = "" if len(firsts) <= 12 else f", ... ({len(firsts)} partitions; --json lists all)"
            lines.append("    changed at partition:offset " + ", ".join(f"{p}:{o}" for p, o in shown_p) + more)
        else:
            for s in d.segments:
                lines.append(f"    {show_time(s.first)} .. {show_time(s.last)}: {s.strategies[0]} "
                             f"({s.share:.1%} of {s.records:,} sampled)")
    k = d.keyless
    if k.count:
        lines.append(f"keyless: {k.pattern}: {k.note}")
    verdict = d.best if d.best is not None else "undetermined"
    if d.best is not None and not d.conclusive:
        verdict = (f"none: no strategy explains clearly more than chance (1/{d.num_partitions} of random "
                   f"placements match any strategy; {d.best} comes first with {d.groups[0].share:.1%}) -- "
                   "a custom partitioner or explicit partition= values")
    if d.segments:
        verdict += f" (most records; last written by {d.segments[-1].strategies[0]})" \
            if d.segments[-1].partition is None else " (most records; see the change above)"
    lines.append(f"best: {verdict}")
    return "\n".join(lines)
