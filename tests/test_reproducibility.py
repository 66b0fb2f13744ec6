"""Same spec, same seed, same world: in-process, in a fresh process, rerun from a manifest."""

import json
import subprocess
import sys

import pandas as pd

from platform_sim.config import make_spec
from platform_sim.runner import run

SPEC = dict(n_users=90, steps=5, embedder="hashing", seed=21, policy="neighbors")


def _in_process(tmp_path, name="inproc"):
    return run(make_spec(SPEC), tmp_path / name)


def test_fresh_process_gives_identical_metrics(tmp_path):
    here = _in_process(tmp_path)
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text((here / "spec.toml").read_text())
    out = tmp_path / "fresh"
    cmd = [sys.executable, "-m", "platform_sim.cli", "run", str(spec_file), "--out", str(out),
           "--no-report"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    assert (here / "metrics.parquet").read_bytes() == (out / "metrics.parquet").read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(here / "events.parquet"), pd.read_parquet(out / "events.parquet")
    )


def test_manifest_records_what_a_rerun_needs(tmp_path):
    here = _in_process(tmp_path)
    manifest = json.loads((here / "manifest.json").read_text())
    assert manifest["spec"] == make_spec(SPEC).model_dump()
    assert manifest["seed"] == SPEC["seed"]
    for key in ("versions", "embedder", "git_commit", "wall_seconds"):
        assert key in manifest
    assert manifest["versions"]["platform-sim"] != "not installed"


def test_changing_only_the_policy_keeps_people_and_problems(tmp_path):
    a = run(make_spec(SPEC), tmp_path / "a")
    b = run(make_spec({**SPEC, "policy": "explore"}), tmp_path / "b")
    pa, pb = pd.read_parquet(a / "population.parquet"), pd.read_parquet(b / "population.parquet")
    cols = ["user", "region", "archetype", "atypicality"]
    pd.testing.assert_frame_equal(pa[cols], pb[cols])
    ea, eb = pd.read_parquet(a / "events.parquet"), pd.read_parquet(b / "events.parquet")
    pd.testing.assert_frame_equal(ea[["step", "user", "domain"]], eb[["step", "user", "domain"]])
