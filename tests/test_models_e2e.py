"""Small end-to-end runs on the real embedders (they load all-MiniLM-L6-v2; run in CI)."""

import json

import numpy as np
import pandas as pd
import pytest

from platform_sim.config import make_spec
from platform_sim.runner import run

pytestmark = pytest.mark.model


@pytest.mark.parametrize(
    ("embedder", "n_users", "steps", "dim"),
    [("minilm-static", 300, 6, 256), ("minilm", 40, 2, 384)],
)
def test_run_end_to_end_with_a_real_embedder(tmp_path, embedder, n_users, steps, dim):
    spec = make_spec(dict(embedder=embedder, n_users=n_users, steps=steps, seed=2, control="none"))
    out = run(spec, tmp_path / "run")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["embedder"]["name"] == embedder
    assert int(manifest["embedder"]["dim"]) == dim
    assert "all-minilm" in manifest["embedder"]["model_path"].lower().replace("_", "-")
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert len(metrics) == steps + 1
    assert metrics["chat_dispersion"].iloc[1:].between(0.01, 1).all()
    assert (metrics["vendi_score"].iloc[1:] > 1).all()
    control = pd.read_parquet(out / "control" / "metrics.parquet")
    assert (control["machine_share"].iloc[1:] == 0).all()
    profiles = np.load(out / "profiles.npz")
    assert profiles[f"vectors_{steps}"].shape[1] == dim
