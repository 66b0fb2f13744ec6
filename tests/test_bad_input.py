"""Bad input, table-driven: every malformed spec or CLI call exits non-zero, names the
problem (and the allowed values where there are any), and leaves no output behind."""

import os

import pytest
from typer.testing import CliRunner

from platform_sim.cli import app

runner = CliRunner()
GOOD = 'name = "bad"\nn_users = 40\nsteps = 2\nembedder = "hashing"\n'

# (spec text or None for no file written, extra CLI args, words the message must contain)
CASES = {
    "unknown key": (GOOD + "colour = 3\n", [], ["colour", "unknown key", "n_users"]),
    "unknown key via --set": (GOOD, ["--set", "n_user=5"], ["n_user", "unknown key"]),
    "string for int": (GOOD + 'seed = "one"\n', [], ["seed", "valid integer"]),
    "bool for int": (GOOD.replace("n_users = 40", "n_users = true"), [], ["n_users", "integer"]),
    "float for int": (GOOD, ["--set", "steps=2.5"], ["steps", "integer"]),
    "list for float": (GOOD, ["--set", "problem_rate=[0.2]"], ["problem_rate", "number"]),
    "negative users": (GOOD, ["--set", "n_users=-5"], ["n_users", "greater than or equal to 10"]),
    "too many users": (GOOD, ["--set", "n_users=2000000"], ["n_users", "less than or equal"]),
    "zero steps": (GOOD, ["--set", "steps=0"], ["steps", "greater than or equal to 1"]),
    "negative seed": (GOOD, ["--set", "seed=-1"], ["seed", "greater than or equal to 0"]),
    "unknown policy": (GOOD, ["--set", "policy=magic"], ["policy", "magic", "neighbors", "ideal"]),
    "unknown control": (GOOD, ["--set", "control=oracle"], ["control", "oracle", "none"]),
    "control equals policy": (GOOD, ["--set", "control=neighbors"], ["control", "same as policy"]),
    "unknown embedder": (GOOD, ["--set", "embedder=word2vec"], ["embedder", "minilm-static"]),
    "unknown precision": (GOOD, ["--set", "precision=fp8"], ["precision", "fp32", "bf16"]),
    "rate above one": (GOOD, ["--set", "problem_rate=1.5"], ["problem_rate", "less than"]),
    "rate zero": (GOOD, ["--set", "problem_rate=0"], ["problem_rate", "greater than 0"]),
    "nan rate": (GOOD, ["--set", "problem_rate=nan"], ["problem_rate"]),
    "negative efficacy weight": (GOOD, ["--set", "efficacy_regional=-1"], ["efficacy_regional"]),
    "all efficacy weights zero": (
        GOOD,
        sum(
            (
                ["--set", f"efficacy_{k}=0"]
                for k in ("universal", "regional", "individual", "markers")
            ),
            [],
        ),
        ["efficacy", "all zero"],
    ),
    "trust out of range": (GOOD, ["--set", "initial_trust=2"], ["initial_trust"]),
    "too many regions": (GOOD, ["--set", "n_regions=9"], ["n_regions", "less than or equal to 6"]),
    "one region": (GOOD, ["--set", "n_regions=1"], ["n_regions"]),
    "zero options": (GOOD, ["--set", "platform_options=0"], ["platform_options"]),
    "zero window": (GOOD, ["--set", "window=0"], ["window"]),
    "malformed --set": (GOOD, ["--set", "steps"], ["key=value"]),
    "empty --set key": (GOOD, ["--set", "=3"], ["key=value"]),
    "invalid TOML": ("n_users = [\n", [], ["not valid TOML"]),
    "duplicate key": ("n_users = 40\nn_users = 50\n", [], ["not valid TOML"]),
    "non-UTF-8 text": (b'name = "caf\xe9"\n', [], ["not UTF-8"]),
    "missing file": (None, [], ["spec file not found", "missing.toml"]),
    "spec and --from": (GOOD, ["--from", "somewhere"], ["either a SPEC", "--from"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_run_call_names_the_problem_and_writes_nothing(tmp_path, case):
    text, extra, words = CASES[case]
    spec = tmp_path / ("missing.toml" if text is None else "spec.toml")
    if isinstance(text, bytes):
        spec.write_bytes(text)
    elif text is not None:
        spec.write_text(text, encoding="utf-8")
    before = sorted(os.listdir(tmp_path))
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(spec), "--out", str(out), "--no-report", *extra])
    assert res.exit_code == 2, res.output
    for word in words:
        assert word in res.output, f"{case}: {word!r} not in {res.output!r}"
    assert "Traceback" not in res.output
    assert sorted(os.listdir(tmp_path)) == before, "a bad call left output behind"


def test_unreadable_spec_file(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.mkdir()  # a directory where a file should be
    res = runner.invoke(app, ["run", str(spec), "--no-report"])
    assert res.exit_code == 2 and "spec.toml" in res.output


def test_rerun_from_a_directory_without_a_spec(tmp_path):
    res = runner.invoke(app, ["run", "--from", str(tmp_path), "--no-report"])
    assert res.exit_code == 2 and "spec file not found" in res.output


def test_existing_output_directory_is_not_overwritten(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = runner.invoke(app, ["run", str(spec), "--out", str(out), "--no-report"])
    assert res.exit_code == 2 and "already exists" in res.output
    assert os.listdir(out) == ["keep.txt"]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p / "nothing-here", ["not a directory"]),
        (lambda p: p, ["neither metrics.parquet", "results.parquet"]),
    ],
)
def test_bad_report_calls(tmp_path, make, words):
    res = runner.invoke(app, ["report", str(make(tmp_path))])
    assert res.exit_code == 2
    for word in words:
        assert word in res.output
