"""Sweeps: spec validation, paired runs, resume after damage or SIGKILL, failures, executors."""

import pandas as pd
import pytest
from conftest import sigkill_sweep_after

from platform_sim import executors
from platform_sim.config import SpecError
from platform_sim.sweep import load_sweep, make_sweep, plan, run_sweep

BASE = {"n_users": 60, "steps": 4, "embedder": "hashing"}
POLICIES = {"name": "t", "seeds": [1, 2], "base": BASE, "grid": {"policy": ["none", "neighbors"]}}


def _sweep(**changes):
    return make_sweep({**POLICIES, **changes})


def _frame(out, name="results"):
    return pd.read_parquet(out / f"{name}.parquet")


def _summary(out):
    return _frame(out, "summary").drop(columns="wall_seconds")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted 2-policy x 2-seed sweep, in-process."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    result = run_sweep(_sweep(), out, workers=1)
    assert not result.failed and len(result.done) == 4
    return out


BAD = [
    ({"colour": "red"}, "colour: unknown key"),
    ({"grid": {"polcy": ["none"]}}, "unknown grid key 'polcy'; valid keys:"),
    ({"grid": {"policy": []}}, "grid.policy is empty"),
    ({"grid": {"policy": "none"}}, "grid.policy: Input should be a valid list"),
    ({"grid": {"policy": ["none", "none"]}}, "duplicate values"),
    ({"grid": {"policy": ["none", "bogus"]}}, "unknown policy 'bogus'"),
    ({"grid": {"n_users": [60, 2]}}, "n_users: Input should be greater than or equal to 10"),
    ({"grid": {"seed": [1, 2]}}, "seeds belong to the top-level `seeds` key"),
    ({"base": {**BASE, "seed": 3}}, "seeds belong to the top-level `seeds` key"),
    ({"base": {**BASE, "control": "none"}}, "add the control to grid.policy"),
    ({"base": {**BASE, "stepz": 3}}, "stepz: unknown key; valid keys:"),
    ({"base": {**BASE, "policy": "bogus"}}, "unknown policy 'bogus'"),
    ({"seeds": 0}, "seeds = N needs N >= 1"),
    ({"seeds": []}, "seeds: List should have at least 1 item"),
    ({"seeds": [1, 1]}, "seeds has duplicates"),
    ({"seeds": [-1]}, "seeds.0: Input should be greater than or equal to 0"),
    ({"seeds": "three"}, "seeds: Input should be a valid list"),
    ({"executor": "slurm"}, "executor: Input should be 'local' or 'dask'"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_sweep_specs_name_the_problem_and_write_nothing(tmp_path, change, message):
    with pytest.raises(SpecError) as exc:
        make_sweep({**POLICIES, **change})
    assert message in str(exc.value)
    # through the command line: exit 2, no output directory
    from typer.testing import CliRunner

    from platform_sim.config import dump_toml

    values = {**POLICIES, **change}
    text = dump_toml({k: v for k, v in values.items() if not isinstance(v, dict)})
    for section in ("base", "grid"):
        text += f"[{section}]\n" + dump_toml(values[section])
    (tmp_path / "s.toml").write_text(text, encoding="utf-8")
    res = CliRunner().invoke(_app(), [str(tmp_path / "s.toml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert message.split(":")[-1].strip() in " ".join(res.output.split())
    assert not (tmp_path / "o").exists()


def _app():
    import typer

    from platform_sim.sweep import sweep_command

    app = typer.Typer()
    app.command()(sweep_command)
    return app


def test_overrides_apply_to_base_and_seeds(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "x"\nseeds = 3\n[base]\nn_users = 60\nembedder = "hashing"\n')
    sweep = load_sweep(path, ["base.n_users=70", "steps=2", "seeds=2", "grid.policy=['none']"])
    assert sweep.seeds == [0, 1] and sweep.base["n_users"] == 70 and sweep.base["steps"] == 2
    assert [r.run_id for r in plan(sweep)] == ["policy=none__seed=0", "policy=none__seed=1"]
    with pytest.raises(SpecError, match="n_users"):
        load_sweep(path, ["n_users=3"])


def test_runs_are_paired_by_seed_in_policy_order():
    sweep = _sweep(grid={"policy": ["neighbors", "none"], "efficacy_regional": [0, 2.5]})
    ids = [r.run_id for r in plan(sweep)]
    assert ids[:4] == [
        "policy=neighbors__efficacy_regional=0__seed=1",
        "policy=none__efficacy_regional=0__seed=1",
        "policy=neighbors__efficacy_regional=2.5__seed=1",
        "policy=none__efficacy_regional=2.5__seed=1",
    ]  # params in grid-key order; policy varies fastest within a seed
    assert all(r.seed == 2 for r in plan(sweep)[4:])


def test_sweep_results_rows_and_common_random_numbers(reference):
    res = _frame(reference)
    assert list(res.columns[:4]) == ["run_id", "policy", "seed", "step"]
    assert len(res) == 4 * 5 and res.groupby("run_id").size().eq(5).all()
    assert list(res.drop_duplicates("run_id")["run_id"]) == [
        "policy=none__seed=1", "policy=neighbors__seed=1",
        "policy=none__seed=2", "policy=neighbors__seed=2",
    ]  # fmt: skip
    summary = _frame(reference, "summary")
    assert summary["status"].eq("done").all() and len(summary) == 4
    assert {"machine_share_cross_50", "machine_share_cross_90", "effective_solutions"} <= set(
        summary.columns
    )
    runs = reference / "runs"

    def problems(run_id):
        return pd.read_parquet(runs / run_id / "events.parquet")[["step", "user", "domain"]]

    for seed in (1, 2):
        a, b = problems(f"policy=none__seed={seed}"), problems(f"policy=neighbors__seed={seed}")
        pd.testing.assert_frame_equal(a, b)
    assert not problems("policy=none__seed=1").equals(problems("policy=none__seed=2"))


def test_resume_reruns_only_the_missing_and_damaged_runs(reference, tmp_path):
    out = tmp_path / "sweep"
    run_sweep(_sweep(), out, workers=1)
    import shutil

    shutil.rmtree(out / "runs" / "policy=none__seed=2")
    damaged = out / "runs" / "policy=neighbors__seed=1"
    (damaged / "manifest.json").unlink()
    (damaged / "metrics.parquet").write_bytes(b"PAR1 truncated")
    (out / "runs" / ".policy=none__seed=1.tmp-123-abc").mkdir()  # a killed worker's leftover
    result = run_sweep(_sweep(), out, workers=1)
    assert sorted(result.done) == ["policy=neighbors__seed=1", "policy=none__seed=2"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        p.name for p in (reference / "runs").iterdir()
    )
    assert (out / "results.parquet").read_bytes() == (reference / "results.parquet").read_bytes()
    pd.testing.assert_frame_equal(_summary(out), _summary(reference))


def test_a_different_spec_in_the_same_directory_is_refused(reference, tmp_path):
    out = tmp_path / "sweep"
    run_sweep(_sweep(seeds=[1]), out, workers=1)
    with pytest.raises(SpecError, match=r"seeds: \[1\] there, \[1, 2\] now"):
        run_sweep(_sweep(), out, workers=1)
    with pytest.raises(SpecError, match="base.steps: 4 there, 5 now"):
        run_sweep(_sweep(seeds=[1], base={**BASE, "steps": 5}), out, workers=1)
    (tmp_path / "other" / "runs").mkdir(parents=True)
    with pytest.raises(SpecError, match="is not a sweep directory"):
        run_sweep(_sweep(), tmp_path / "other", workers=1)
    assert (tmp_path / "other" / "runs").exists()


def test_a_sweep_from_before_a_new_spec_field_resumes_without_rerunning(tmp_path):
    import json
    import tomllib

    out = tmp_path / "sweep"
    run_sweep(_sweep(), out, workers=1)
    # as if written before `adapt_boost` existed: no such key in sweep.toml or manifests
    spec_file = out / "sweep.toml"
    text = spec_file.read_text()
    assert "adapt_boost" in tomllib.loads(text)["base"]
    spec_file.write_text("\n".join(ln for ln in text.splitlines() if "adapt_boost" not in ln))
    for manifest in (out / "runs").glob("*/manifest.json"):
        m = json.loads(manifest.read_text())
        del m["spec"]["adapt_boost"]
        manifest.write_text(json.dumps(m))
    result = run_sweep(_sweep(), out, workers=1)
    assert result.done == [] and len(result.skipped) == 4
    # a value other than the default is a difference
    with pytest.raises(SpecError, match="base.adapt_boost"):
        run_sweep(_sweep(base={**BASE, "adapt_boost": 0.9}), out, workers=1)


def test_a_failing_run_is_recorded_and_the_rest_complete(tmp_path, monkeypatch):
    real = executors.simulate

    def simulate(spec, *args, **kwargs):
        if spec.policy == "neighbors" and spec.seed == 2:
            raise RuntimeError("the platform fell over")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(executors, "simulate", simulate)
    out = tmp_path / "sweep"
    result = run_sweep(_sweep(), out, workers=1)
    assert list(result.failed) == ["policy=neighbors__seed=2"] and len(result.done) == 3
    text = (out / "failed" / "policy=neighbors__seed=2.txt").read_text()
    assert "RuntimeError: the platform fell over" in text and "Traceback" in text
    summary = _frame(out, "summary")
    assert summary.set_index("run_id")["status"].to_dict()["policy=neighbors__seed=2"] == "failed"
    assert _frame(out)["run_id"].nunique() == 3
    monkeypatch.setattr(executors, "simulate", real)
    result = run_sweep(_sweep(), out, workers=1)  # the retry completes and clears the failure
    assert result.done == ["policy=neighbors__seed=2"]
    assert not list((out / "failed").iterdir())


def test_local_processes_give_the_same_results(reference, tmp_path):
    out = tmp_path / "sweep"
    result = run_sweep(_sweep(), out, workers=2)
    assert not result.failed
    assert (out / "results.parquet").read_bytes() == (reference / "results.parquet").read_bytes()
    pd.testing.assert_frame_equal(_summary(out), _summary(reference))


def test_dask_local_cluster_gives_the_same_results(reference, tmp_path):
    from distributed import LocalCluster

    out = tmp_path / "sweep"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = run_sweep(_sweep(), out, workers=2, address=cluster.scheduler_address)
    assert not result.failed and len(result.done) == 4
    assert (out / "results.parquet").read_bytes() == (reference / "results.parquet").read_bytes()


def test_sigkill_mid_sweep_then_resume_matches_an_uninterrupted_sweep(tmp_path):
    sweep = _sweep(seeds=[1, 2, 3], base={**BASE, "steps": 20})
    spec = tmp_path / "s.toml"
    spec.write_text(
        'name = "t"\nseeds = [1, 2, 3]\n[base]\nn_users = 60\nsteps = 20\nembedder = "hashing"\n'
        '[grid]\npolicy = ["none", "neighbors"]\n'
    )
    out = tmp_path / "killed"
    complete = sigkill_sweep_after(spec, out, 1, workers=2)
    assert 1 <= complete < 6
    result = run_sweep(sweep, out, workers=1)
    assert len(result.skipped) == complete and len(result.done) == 6 - complete
    ref = tmp_path / "ref"
    run_sweep(sweep, ref, workers=1)
    assert (out / "results.parquet").read_bytes() == (ref / "results.parquet").read_bytes()


def test_worker_pools_prepare_each_embedder_once_before_starting(monkeypatch):
    # two workers starting on an empty cache would both distil minilm-static at once
    prepared = []
    monkeypatch.setattr(executors, "prepare", prepared.append)
    tasks = [
        executors.Task(f"r{i}", {"embedder": name}, "unused")
        for i, name in enumerate(["minilm-static", "hashing", "minilm-static"])
    ]
    executors._prepare_embedders(tasks)
    assert prepared == ["hashing", "minilm-static"]
