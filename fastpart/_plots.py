"""Charts for the reports (matplotlib, the ``plot`` extra); PNG or SVG by the file extension.

* :func:`plot_comparison`: per strategy, the load of every partition as its
  deviation from the mean, sorted (max/mean and the coefficient of variation
  written on it); and the agreement between every two strategies as a matrix.
* :func:`plot_resize`: where keys go when the partition count changes: an
  old -> new matrix when both counts are small, else the share of each old
  partition's keys that move, and what each new partition receives.
* :func:`deviation_axes`: the load panel alone, for other reports (skew).

The same code draws 3 and 10,000 partitions: bars up to 64 partitions, a
sorted filled curve above.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .report import Comparison, ResizeReport

BARS_UP_TO = 64
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'fastpart[plot]'") from None
    return plt


def _check_path(path: str) -> None:
    if not str(path).lower().endswith((".png", ".svg")):
        raise ValueError(f"a chart is saved as PNG or SVG, chosen by the extension: {path!r}")


def _save(fig: Any, path: str) -> str:
    plt = _pyplot()
    try:
        with plt.rc_context({"svg.fonttype": "none"}):  # SVG text stays text (searchable, small)
            fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def deviation_axes(ax: Any, counts: Sequence[int], label: str, color: str = _COLORS[0],
                   span: Optional[float] = None) -> None:
    """Draw the load per partition as % deviation from the mean, sorted high to low.

    Up to 64 partitions: one bar per partition, labelled with its number
    (up to 24); above: a filled curve over the partitions ranked by load.
    The hottest partition, max/mean and the coefficient of variation are
    written on it.  *span*: the y range (+-%) to use, to share one scale
    between panels (default: this panel's largest deviation).
    """
    n = len(counts)
    total = sum(counts)
    mean = total / n if n else 0.0
    order = sorted(range(n), key=lambda p: (-counts[p], p))
    dev = [100.0 * (counts[p] - mean) / mean if mean else 0.0 for p in order]
    sq = sum((c - mean) ** 2 for c in counts)
    cv = (sq / n) ** 0.5 / mean if mean else 0.0
    mx = max(counts) if counts else 0
    if n <= BARS_UP_TO:
        colors = [color if d >= 0 else "#9e9e9e" for d in dev]
        ax.bar(range(n), dev, color=colors, width=0.8)
        if n <= 24:
            ax.set_xticks(range(n))
            ax.set_xticklabels([str(p) for p in order], fontsize=8)
            ax.set_xlabel("partition (sorted by load)")
        else:
            ax.set_xlabel(f"{n} partitions, sorted by load")
        ax.set_xlim(-0.6, n - 0.4)
    else:
        xs = list(range(1, n + 1))
        ax.fill_between(xs, dev, 0, step="mid", color=color, alpha=0.55, linewidth=0)
        ax.plot(xs, dev, color=color, linewidth=1, drawstyle="steps-mid")
        ax.set_xlim(1, n)
        ax.set_xlabel(f"{n:,} partitions ranked by load (rank)")
    ax.axhline(0, color="black", linewidth=0.8)
    if span is None:
        span = max((abs(d) for d in dev), default=0.0)
    span = max(span, 1.0)
    ax.set_ylim(-span * 1.25, span * 1.7)
    ax.set_ylabel("vs mean (%)")
    ax.grid(axis="y", alpha=0.3)
    head = f"{label}: max/mean {mx / mean if mean else 0:.3f}, CV {cv:.3f}, mean {mean:,.1f} keys"
    head += f"; hottest partition {order[0] if order else '-'}"
    ax.text(0.01, 0.97, head, transform=ax.transAxes, va="top", ha="left", fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 2})


def max_deviation(counts: Sequence[int]) -> float:
    """The largest |deviation from the mean| in % (to share a scale between panels)."""
    n = len(counts)
    mean = sum(counts) / n if n else 0.0
    return max((abs(100.0 * (c - mean) / mean) for c in counts), default=0.0) if mean else 0.0


def _matrix(ax: Any, names: List[str], values: List[List[Optional[float]]], title: str) -> Any:
    k = len(names)
    data = [[v if v is not None else float("nan") for v in row] for row in values]
    im = ax.imshow(data, vmin=0, vmax=100, cmap="RdYlGn")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    short = [n if len(n) <= 18 else n[:17] + "…" for n in names]
    ax.set_xticklabels(short, rotation=35, ha="right", fontsize=8)
    ax.set_yticklabels(short, fontsize=8)
    size = 11 if k <= 4 else 8 if k <= 8 else 6
    for i in range(k):
        for j in range(k):
            v = data[i][j]
            if v == v:
                text = f"{v:.2f}%" if v < 1 or 99.95 <= v < 100 else f"{v:.1f}%"
                ax.text(j, i, text, ha="center",
                        va="center", fontsize=size, color="black")
    ax.set_title(title, fontsize=10)
    return im


def plot_comparison(r: "Comparison", path: str, *, title: Optional[str] = None) -> str:
    """The chart of :meth:`fastpart.report.Comparison.plot`."""
    _check_path(path)
    plt = _pyplot()
    if r.num_partitions > 1 << 22:
        raise ValueError(f"cannot draw {r.num_partitions} partitions one by one; at most {1 << 22}")
    k = len(r.strategies)
    fig = plt.figure(figsize=(13, max(3.6, 1.0 + 2.1 * k)))
    grid = fig.add_gridspec(k, 2, width_ratios=[2.3, 1], wspace=0.25, hspace=0.65)
    counts = {s: r.counts(s) for s in r.strategies}
    span = max(max_deviation(c) for c in counts.values())
    for i, s in enumerate(r.strategies):
        ax = fig.add_subplot(grid[i, 0])
        deviation_axes(ax, counts[s], s, _COLORS[i % len(_COLORS)], span=span)
        if i < k - 1:
            ax.set_xlabel("")
    names = r.strategies
    agree: List[List[Optional[float]]] = [[100.0 if a == b else None for b in names] for a in names]
    for p in r.pairs:
        i, j = names.index(p.a), names.index(p.b)
        agree[i][j] = agree[j][i] = 100 * p.agreement if p.same + p.different else None
    ax = fig.add_subplot(grid[:, 1] if k <= 3 else grid[: min(k, 3), 1])
    _matrix(ax, names, agree, f"keyed records on the same partition\n(unrelated hashes: about 1 in "
                              f"{r.num_partitions:,} = {100 / r.num_partitions:.2g}%)")
    fig.suptitle(title or f"{r.num_keys:,} keys over {r.num_partitions:,} partitions: load per partition "
                 f"and agreement between strategies", fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.97, top=0.9, bottom=0.12)
    return _save(fig, path)


def plot_resize(r: "ResizeReport", path: str, *, title: Optional[str] = None) -> str:
    """The chart of :meth:`fastpart.report.ResizeReport.plot`."""
    _check_path(path)
    plt = _pyplot()
    keyed = r.moved + r.stayed
    head = title or (f"{r.strategy}: {r.old:,} -> {r.new:,} partitions: {r.moved:,} of {keyed:,} keyed records "
                     f"move ({100 * r.moved_share:.1f}%)")
    assert r.old_counts is not None and r.moved_out is not None and r.moved_in is not None
    if r.flows is not None:
        fig, ax = plt.subplots(figsize=(min(4 + 0.32 * r.new, 14), min(3 + 0.32 * r.old, 10)))
        old = r.old_counts.as_list()
        out = r.moved_out.as_list()
        m = [[0.0] * r.new for _ in range(r.old)]
        for p in range(r.old):
            if p < r.new:
                m[p][p] = old[p] - out[p]
        for (p, q), c in r.flows.items():
            m[p][q] += c
        total = [sum(row) or 1 for row in m]
        share = [[100.0 * v / total[p] if v else float("nan") for v in row] for p, row in enumerate(m)]
        im = ax.imshow(share, cmap="viridis", vmin=0, vmax=100, aspect="auto")
        step = 1 if max(r.old, r.new) <= 24 else 4
        ax.set_xticks(range(0, r.new, step))
        ax.set_yticks(range(0, r.old, step))
        ax.set_xlabel("new partition")
        ax.set_ylabel("old partition")
        for p in range(r.old):
            if p < r.new:
                ax.add_patch(plt.Rectangle((p - 0.5, p - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.5))
        if r.old <= 16 and r.new <= 32:
            for p in range(r.old):
                for q in range(r.new):
                    v = share[p][q]
                    if v == v:
                        ax.text(q, p, f"{v:.0f}%", ha="center", va="center", fontsize=8,
                                color="white" if v < 60 else "black")
        cb = fig.colorbar(im, ax=ax, fraction=0.04)
        cb.set_label("% of the old partition's keys")
        ax.set_title(head + "\n(framed: keys that stay on their partition; empty: no keys go there)", fontsize=10)
        fig.tight_layout()
        return _save(fig, path)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(12, 6.5))
    old = r.old_counts.as_list()
    out = r.moved_out.as_list()
    moved_share = sorted((100.0 * o / c if c else 0.0 for o, c in zip(out, old)), reverse=True)
    xs = list(range(1, len(moved_share) + 1))
    a1.fill_between(xs, moved_share, 0, step="mid", color=_COLORS[1], alpha=0.6, linewidth=0)
    a1.axhline(100 * r.moved_share, color="black", linewidth=0.8, linestyle="--")
    a1.text(1, 100 * r.moved_share, f" {100 * r.moved_share:.1f}% overall", va="bottom", fontsize=9)
    a1.set_xlim(1, max(2, r.old))
    a1.set_ylim(0, 105)
    a1.set_ylabel("% of its keys that move")
    a1.set_xlabel(f"{r.old:,} old partitions ranked by the share of their keys that move (rank)")
    assert r.new_counts is not None
    new = r.new_counts.as_list()
    inn = r.moved_in.as_list()
    stay = [c - i for c, i in zip(new, inn)]
    order = sorted(range(r.new), key=lambda q: (inn[q] / new[q] if new[q] else 0.0, -new[q], q))
    xs2 = list(range(1, r.new + 1))
    a2.fill_between(xs2, [stay[q] for q in order], 0, step="mid", color=_COLORS[0], alpha=0.7,
                    label="keys that were already on it", linewidth=0)
    a2.fill_between(xs2, [new[q] for q in order], [stay[q] for q in order], step="mid", color=_COLORS[1],
                    alpha=0.7, label="keys arriving from other partitions", linewidth=0)
    a2.set_xlim(1, r.new)
    a2.set_ylim(0, max(new, default=1) * 1.3)
    a2.set_ylabel("keys")
    a2.set_xlabel(f"{r.new:,} new partitions, sorted by the share of arriving keys (rank)")
    a2.legend(loc="upper left", fontsize=9, ncol=2)
    fig.suptitle(head, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
