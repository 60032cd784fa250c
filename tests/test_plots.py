"""Charts render at 3, 12, 100 and 10,000 partitions, as PNG and SVG, with the numbers written on them.

The SVG keeps its text as text, so the test reads back the max/mean, CV and agreement figures
and compares them with the report's own numbers.
"""

from __future__ import annotations

import re

import pytest

import fastpart
from fastpart.report import CompareAccumulator, ResizeAccumulator

pytest.importorskip("matplotlib", reason="charts are the optional fastpart[plot] extra")

COUNTS = [3, 12, 100, 10000]
STRATEGIES = ["java", "librdkafka:consistent_random", "sarama:hash", "kafkajs:legacy"]


def keys_for(n):
    return [b"order-%d" % i for i in range(max(3000, min(300_000, 30 * n)))]


def _png_ok(path):
    import matplotlib.image as mpimg

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(str(path))
    h, w = img.shape[:2]
    assert 300 < h < 2000 and 500 < w < 2000
    assert img[..., :3].std() > 0.05  # not blank


@pytest.mark.parametrize("n", COUNTS)
def test_compare_chart(tmp_path, n):
    acc = CompareAccumulator(n, STRATEGIES, examples=5)
    acc.add(keys_for(n))
    r = acc.result()
    png, svg = tmp_path / f"compare_{n}.png", tmp_path / f"compare_{n}.svg"
    assert r.plot(str(png)) == str(png)
    _png_ok(png)
    r.plot(str(svg))
    text = svg.read_text()
    for s in STRATEGIES:
        st = r.load(s)
        assert f"{s}: max/mean {st.max_over_mean:.3f}, CV {st.cv:.3f}" in text
        assert f"hottest partition {st.hottest}" in text
    shown = {float(v) for v in re.findall(r">([0-9.]+)%<", text)}
    for p in r.pairs:
        v = 100 * p.agreement
        assert round(v, 2 if v < 1 else 1) in shown


@pytest.mark.parametrize("n", COUNTS)
def test_resize_chart(tmp_path, n):
    acc = ResizeAccumulator(n, 2 * n, examples=0)
    acc.add(keys_for(n))
    r = acc.result()
    png = tmp_path / f"resize_{n}.png"
    r.plot(str(png))
    _png_ok(png)
    svg = tmp_path / f"resize_{n}.svg"
    r.plot(str(svg))
    assert f"move ({100 * r.moved_share:.1f}%)" in svg.read_text()
    assert (r.flows is not None) == (2 * n <= 64)


def test_cli_plot_svg(tmp_path, capsys):
    from cli_support import run_cli

    out = tmp_path / "c.svg"
    rc, _, err = run_cli(["compare", "-p", "12", "-s", "java,sarama", "--plot", str(out), *[f"k{i}" for i in range(500)]],
                         b"", capsys)
    assert rc == 0 and "chart written" in err and out.read_text().startswith("<?xml")
    out = tmp_path / "r.png"
    rc, _, _ = run_cli(["resize", "--from", "6", "--to", "8", "--plot", str(out), *[f"k{i}" for i in range(500)]],
                       b"", capsys)
    assert rc == 0
    _png_ok(out)


def test_plot_limits(tmp_path):
    r = fastpart.compare([b"a", b"b"], 3, ["java", "sarama"])
    with pytest.raises(ValueError, match="PNG or SVG"):
        r.plot(str(tmp_path / "x.jpg"))
    with pytest.raises(ValueError, match="one by one"):
        fastpart.compare([b"a"], 5_000_000, ["java", "sarama"]).plot(str(tmp_path / "x.png"))
