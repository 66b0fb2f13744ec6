"""`platform-sim run`: the run directory, byte-identical reruns, and spec errors."""

import json
import tomllib

import pandas as pd
import pytest
from typer.testing import CliRunner

from platform_sim.cli import app
from platform_sim.config import SpecError, load_spec, make_spec

runner = CliRunner()


def _spec(tmp_path, text: str):
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


SMALL = 'name = "small"\nn_users = 80\nsteps = 4\nembedder = "hashing"\nseed = 5\n'


def test_run_writes_a_complete_run_directory(tmp_path):
    spec = _spec(tmp_path, SMALL + 'control = "none"\n')
    out = tmp_path / "run"
    res = runner.invoke(
        app, ["run", str(spec), "--out", str(out), "--set", "steps=3", "--no-report"]
    )
    assert res.exit_code == 0, res.output
    for d in (out, out / "control"):
        assert {"spec.toml", "metrics.parquet", "events.parquet", "manifest.json"} <= {
            p.name for p in d.iterdir()
        }
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert len(metrics) == 4  # t=0 plus 3 steps: the override took effect
    resolved = tomllib.loads((out / "spec.toml").read_text())
    assert resolved["steps"] == 3 and resolved["control"] == "none"
    assert tomllib.loads((out / "control" / "spec.toml").read_text())["policy"] == "none"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["embedder"]["name"] == "hashing"
    assert manifest["versions"]["numpy"] and manifest["wall_seconds"] > 0
    events = pd.read_parquet(out / "events.parquet")
    assert {"chat", "channel", "advice", "solution", "outcome"} <= set(events.columns)


def test_same_spec_twice_gives_byte_identical_metrics(tmp_path):
    spec = _spec(tmp_path, SMALL)
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert (
            runner.invoke(app, ["run", str(spec), "--out", str(out), "--no-report"]).exit_code == 0
        )
    a, b = ((o / "metrics.parquet").read_bytes() for o in outs)
    assert a == b
    other = tmp_path / "c"
    assert (
        runner.invoke(
            app, ["run", str(spec), "--out", str(other), "--set", "seed=6", "--no-report"]
        ).exit_code
        == 0
    )
    assert (other / "metrics.parquet").read_bytes() != a


@pytest.mark.parametrize(
    ("text", "sets", "expected"),
    [
        (SMALL + "colour = 3\n", [], "colour"),
        (SMALL, ["n_users=-5"], "n_users"),
        (SMALL, ["steps=0"], "steps"),
        (SMALL, ["policy=magic"], "neighbors"),
        (SMALL, ["embedder=word2vec"], "minilm-static"),
        (SMALL, ["problem_rate=abc"], "problem_rate"),
        (SMALL, ["precision=fp8"], "bf16"),
        (
            SMALL,
            [
                "efficacy_universal=0",
                "efficacy_regional=0",
                "efficacy_individual=0",
                "efficacy_markers=0",
            ],
            "all zero",
        ),
        ("n_users = [\n", [], "not valid TOML"),
        (SMALL, ["nokey"], "key=value"),
    ],
)
def test_bad_specs_exit_nonzero_name_the_problem_and_write_nothing(tmp_path, text, sets, expected):
    spec = _spec(tmp_path, text)
    out = tmp_path / "out"
    args = ["run", str(spec), "--out", str(out)]
    for s in sets:
        args += ["--set", s]
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert expected in res.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["spec.toml"]


def test_rerun_from_a_run_directory_gives_identical_metrics(tmp_path):
    spec = _spec(tmp_path, SMALL)
    first, again = tmp_path / "first", tmp_path / "again"
    args = ["--set", "problem_rate=0.4", "--no-report"]
    assert runner.invoke(app, ["run", str(spec), "--out", str(first), *args]).exit_code == 0
    res = runner.invoke(app, ["run", "--from", str(first), "--out", str(again), "--no-report"])
    assert res.exit_code == 0, res.output
    assert (first / "metrics.parquet").read_bytes() == (again / "metrics.parquet").read_bytes()
    assert tomllib.loads((again / "spec.toml").read_text())["problem_rate"] == 0.4


def test_missing_spec_file_is_named(tmp_path):
    res = runner.invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2 and "nope.toml" in res.output


def test_spec_errors_name_field_and_valid_values():
    with pytest.raises(SpecError, match="policy") as e:
        make_spec({"policy": "magic"})
    assert "ideal" in str(e.value) and "none" in str(e.value)
    with pytest.raises(SpecError, match="unknown key"):
        make_spec({"n_user": 5})


def test_experiment_specs_are_valid():
    from pathlib import Path

    for path in (Path(__file__).parent.parent / "experiments").glob("*.toml"):
        if "grid" not in tomllib.loads(path.read_text()):
            load_spec(path)
