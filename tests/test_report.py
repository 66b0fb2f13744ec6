"""Homogenization reports: self-contained HTML, figures on disk, numbers that match the data."""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from platform_sim.config import make_spec
from platform_sim.report import ReportError, crossing_steps, summary_numbers, write_report
from platform_sim.report.summary import fmt
from platform_sim.report.sweep import bands, load_results
from platform_sim.runner import run

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    spec = make_spec(dict(n_users=120, steps=8, embedder="hashing", control="none"))
    return run(spec, tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """A sweep directory fabricated from 2 policies x 2 seeds of tiny runs."""
    root = tmp_path_factory.mktemp("sweep")
    frames = []
    for policy in ("none", "neighbors"):
        for seed in (1, 2):
            run_id = f"{policy}-s{seed}"
            spec = make_spec(
                dict(n_users=60, steps=6, embedder="hashing", policy=policy, seed=seed)
            )
            run(spec, root / "runs" / run_id)
            m = pd.read_parquet(root / "runs" / run_id / "metrics.parquet")
            frames.append(m.assign(run_id=run_id, policy=policy, seed=seed))
    results = pd.concat(frames, ignore_index=True)
    first = ["run_id", "policy", "seed", "step"]
    results = results[first + [c for c in results.columns if c not in first]]
    results.to_parquet(root / "results.parquet", index=False)
    (root / "sweep.toml").write_text('name = "tiny"\n', encoding="utf-8")
    return root


def _check_figures(directory, html: str) -> list[str]:
    """Every figure the page references exists as a PNG (and SVG); every <img> decodes."""
    files = re.findall(r'data-file="figures/([^"]+)"', html)
    assert files
    for name in files:
        png = directory / "figures" / name
        assert png.stat().st_size > 0 and png.read_bytes()[:8] == PNG
        assert png.with_suffix(".svg").stat().st_size > 0
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert len(srcs) == len(files)
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True)[:8] == PNG
    assert "http://" not in html and "https://" not in html and "<script" not in html
    return files


def test_run_report_is_self_contained(run_dir):
    path = write_report(run_dir, maps=False)
    assert path == run_dir / "report.html"
    html = path.read_text(encoding="utf-8")
    assert _check_figures(run_dir, html) == ["curves.png"]
    assert "maps=False" in html  # the skipped sections say why
    for text in ("neighbors vs control none", "Collapse curves", "majority (50%)"):
        assert text in html


def _expected(quote: dict, run_dir) -> float:
    """Recompute a quoted number from metrics.parquet."""
    sub = "control/" if quote["world"] == "control" else ""
    m = pd.read_parquet(run_dir / f"{sub}metrics.parquet")
    lo, hi = quote["steps"]
    if quote["stat"] == "value":
        return float(m.loc[m["step"] == lo, quote["metric"]].iloc[0])
    if quote["stat"] == "mean":
        return float(m.loc[m["step"].between(lo, hi), quote["metric"]].mean())
    if quote["stat"] == "crossing":
        over = m.loc[
            m["machine_share"] > 0.5 if "majority" in quote["key"] else m["machine_share"] > 0.9
        ]
        return float(over["step"].min())
    assert quote["stat"] == "ratio"
    c = pd.read_parquet(run_dir / "control" / "metrics.parquet")
    col = quote["metric"]
    return float(
        m.loc[m["step"].between(lo, hi), col].mean() / c.loc[c["step"].between(lo, hi), col].mean()
    )


def test_summary_numbers_equal_the_parquet(run_dir):
    html = write_report(run_dir, maps=False).read_text(encoding="utf-8")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    paragraph = re.search(r"<p class='summary' id='summary'>(.*?)</p>", html, re.S).group(1)
    quotes = summary["quotes"]
    keys = {q["key"] for q in quotes}
    assert {
        "policy.machine_share.start",
        "policy.machine_share.final",
        "control.effective_solutions.final",
        "policy.mean_curiosity.start",
    } <= keys
    m = pd.read_parquet(run_dir / "metrics.parquet")
    last = int(m["step"].max())
    assert summary["final_steps"] == [last - max(1, math.ceil(0.1 * last)) + 1, last]
    for q in quotes:
        expected = _expected(q, run_dir)
        assert q["value"] == pytest.approx(expected, rel=1e-12, nan_ok=True), q["key"]
        kind = {"ratio": "ratio", "crossing": "crossing"}.get(q["stat"], q["metric"])
        assert q["text"] == fmt(kind, expected)
        assert q["text"] in paragraph, q["key"]
    assert summary_numbers(run_dir) == pytest.approx(
        {q["key"]: q["value"] for q in quotes}, nan_ok=True
    )
    assert "window" in summary["paragraph"] and "last 10% of steps" in summary["paragraph"]


def test_crossing_steps_on_a_hand_made_frame():
    frame = pd.DataFrame({"step": range(6), "machine_share": [np.nan, 0.1, 0.6, 0.4, 0.95, 0.97]})
    assert crossing_steps(frame) == {"majority": 2.0, "near_totality": 4.0}
    frame["machine_share"] = [np.nan, 0.1, 0.5, 0.4, 0.3, 0.2]  # 0.5 is not "more than half"
    out = crossing_steps(frame)
    assert math.isnan(out["majority"]) and math.isnan(out["near_totality"])


def test_sweep_report_has_bands_and_frontier(sweep_dir):
    html = write_report(sweep_dir, maps=False).read_text(encoding="utf-8")
    files = _check_figures(sweep_dir, html)
    assert {"sweep_curves.png", "small_multiples.png", "frontier.png"} <= set(files)
    summary = json.loads((sweep_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "sweep" and summary["swept"] == ["policy"]
    assert summary["groups"] == ["none", "neighbors"]
    df, _ = load_results(sweep_dir)
    b = bands(df, "mean_curiosity")
    both = b[b["n"] == 2]
    assert len(both) and (both["low"] <= both["mean"] + 1e-12).all()
    assert (both["high"] >= both["mean"] - 1e-12).all() and (both["high"] > both["low"]).any()
    for q in summary["quotes"]:  # seed means of each run's final block
        runs = df[df["group"] == q["world"]]
        finals = [
            r.loc[
                r["step"] > r["step"].max() - max(1, math.ceil(0.1 * r["step"].max())), q["metric"]
            ].mean()
            for _, r in runs.groupby("run_id")
        ]
        assert q["value"] == pytest.approx(np.mean(finals))
        assert q["text"] in summary["paragraph"]


def test_report_is_deterministic(run_dir):
    write_report(run_dir, maps=False)
    first = (run_dir / "summary.json").read_bytes()
    png = (run_dir / "figures" / "curves.png").read_bytes()
    write_report(run_dir, maps=False)
    assert (run_dir / "summary.json").read_bytes() == first
    assert (run_dir / "figures" / "curves.png").read_bytes() == png


def test_report_with_maps_and_feature_graph(run_dir):
    html = write_report(run_dir, maps=True).read_text(encoding="utf-8")
    files = _check_figures(run_dir, html)
    assert {"curves.png", "maps.png", "feature_graph.png"} <= set(files)
    assert "of the structure of people's marker archetypes" in html


def test_not_a_run_directory(tmp_path):
    with pytest.raises(ReportError, match="metrics.parquet"):
        write_report(tmp_path)
