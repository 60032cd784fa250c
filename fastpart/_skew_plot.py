"""The chart of :meth:`fastpart.skew.SkewReport.plot` (matplotlib, the plot extra)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .skew import SkewReport

_MAX_PANELS = 6


def plot(report: "SkewReport", path: str, *, title: Optional[str] = None) -> str:
    """One panel per (strategy, count): partitions sorted from the most to the
    least loaded, as a multiple of the mean (log scale past 4x; past 200
    partitions a profile by rank on a log axis); the max/mean limit dashed;
    partitions holding a hot key worth half a mean partition in red, the
    first three labelled with the key.  Returns *path*."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'fastpart[plot]'") from None
    import numpy as np

    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise ValueError(f"--plot {path!r}: give a .png, .svg or .pdf file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"--plot {path!r}: the folder {folder} does not exist")
    loads = report.loads[:_MAX_PANELS]
    fig, axes = plt.subplots(len(loads), 1, figsize=(10, 2.6 * len(loads) + 0.8), squeeze=False)
    for ax, load in zip(axes[:, 0], loads):
        rec = np.asarray(load.records)
        mean = rec.mean() if rec.size else 0.0
        ratio = rec / mean if mean else np.ones_like(rec)
        order = np.argsort(-ratio, kind="stable")
        ys = ratio[order]
        # red: partitions holding a hot key that alone carries half a mean partition or more
        heavy = {h.partition for h in load.hot_keys if mean and h.records >= 0.5 * mean}
        hot = np.array([int(p) in heavy for p in order], dtype=bool)
        log_y = float(ys.max()) > 4
        floor = 0.01
        shown = np.maximum(ys, floor) if log_y else ys
        many = len(ys) > 200
        xs = np.arange(1, len(ys) + 1) if many else np.arange(len(ys))
        if not many:
            colors = np.where(hot, "#c0392b", "#4c72b0")
            ax.bar(xs, shown - 1, bottom=1, width=0.85, color=colors)
            if len(ys) <= 48:
                ax.set_xticks(xs)
                ax.set_xticklabels([str(int(p)) for p in order], fontsize=7)
                ax.set_xlabel("partition (most loaded first)", fontsize=8)
            else:
                ax.set_xlabel(f"{len(ys)} partitions, most loaded first", fontsize=8)
            ax.set_xlim(-0.6, len(ys) - 0.4)
        else:  # many partitions: a profile by rank on a log axis shows the head and the tail
            ax.fill_between(xs, shown, 1, step="mid", color="#4c72b0", alpha=0.8, linewidth=0)
            ax.set_xscale("log")
            ax.set_xlim(0.8, len(ys) * 1.1)
            ax.set_xlabel(f"rank of the partition by load (1 = most loaded, {len(ys)} partitions, log scale)",
                          fontsize=8)
        if hot.any():
            ax.scatter(xs[hot], shown[hot], color="#c0392b", s=16, zorder=3, label="holds a hot key")
            keyname = {}
            for h in sorted(load.hot_keys, key=lambda h: h.records):  # the heaviest key names its partition
                keyname[h.partition] = h.key
            for x, y, p in list(zip(xs[hot], shown[hot], order[hot]))[:3]:
                k = keyname.get(int(p), b"")
                label = k.decode("utf-8", "replace")[:18]
                ax.annotate(label, (x, y), xytext=(4, -2), textcoords="offset points", fontsize=7, va="top")
            ax.legend(fontsize=7, loc="upper right")
        ax.axhline(report.limit, color="#333333", linestyle="--", linewidth=1)
        ax.axhline(1, color="#999999", linewidth=0.8)
        ax.text(0.995, report.limit, f"limit {report.limit:g}x mean ", va="bottom", ha="right", fontsize=7,
                transform=ax.get_yaxis_transform())
        if log_y:
            ax.set_yscale("log")
            lo, hi = max(floor, float(shown.min()) * 0.8), float(shown.max()) * 1.6
            ax.set_ylim(lo, hi)
            ticks = [t for t in (0.01, 0.03, 0.1, 0.25, 0.5, 1, 1.5, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024,
                                 4096, 16384) if lo <= t <= hi]
            ax.set_yticks(ticks)
            ax.set_yticklabels([f"{t:g}" for t in ticks])
            ax.minorticks_off()
            ax.set_ylabel("load / mean (log)", fontsize=8)
        else:
            ax.set_ylim(min(0.0, float(ys.min()) - 0.05), max(float(ys.max()), report.limit) * 1.12)
            ax.set_ylabel("load / mean", fontsize=8)
        verdict = "OK" if load.max_over_mean <= report.limit else "over the limit"
        ax.set_title(f"{load.strategy}, {load.num_partitions} partitions: max/mean {load.max_over_mean:.2f}, "
                     f"CV {load.cv:.3f} ({verdict})", fontsize=9, loc="left")
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    head = title or f"Records per partition as a multiple of the mean, {report.records:,} records"
    fig.suptitle(head, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    try:
        fig.savefig(path, dpi=110)
    except OSError as e:
        raise ValueError(f"--plot {path!r}: could not write the chart: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    return path

