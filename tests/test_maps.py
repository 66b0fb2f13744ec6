"""UMAP maps of user profiles on tiny synthetic run directories.

All UMAP work is in this module (its first fit pays numba's compilation once)."""

import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from platform_sim import maps
from platform_sim.maps import compute_maps, plot_map

matplotlib.use("Agg")

CHANNELS = ["repertoire", "tradition", "invent", "friend", "platform"]
DIM = 16


def _write_run(
    run_dir: Path, snapshots: dict[int, tuple[np.ndarray, np.ndarray]], n_users: int
) -> pd.DataFrame:
    """A minimal run directory: population, events (one chat per user per snapshot step,
    adopting solution 100*step + user), profiles.npz. Returns the events."""
    run_dir.mkdir(parents=True, exist_ok=True)
    users = np.arange(n_users)
    pd.DataFrame(
        {
            "user": users,
            "region": users % 3,
            "region_name": [f"R{u % 3}" for u in users],
            "archetype": users % 2,
            "archetype_name": [f"A{u % 2}" for u in users],
            "markers": [["m"]] * n_users,
        }
    ).to_parquet(run_dir / "population.parquet", index=False)
    rows = []
    for step, (active, _) in sorted(snapshots.items()):
        for u in active.tolist():
            rows.append((step, u, step % 8, 100 * step + u, bool(u % 2), CHANNELS[u % 5]))
    events = pd.DataFrame(
        rows, columns=["step", "user", "domain", "solution", "machine", "channel"]
    )
    events["chat_id"] = np.arange(len(events))
    events["channel"] = pd.Categorical(events["channel"], categories=CHANNELS)
    events.to_parquet(run_dir / "events.parquet", index=False)
    arrays = {"steps": np.array(sorted(snapshots))}
    for step, (active, vectors) in snapshots.items():
        arrays[f"users_{step}"] = active.astype(np.int64)
        arrays[f"vectors_{step}"] = vectors.astype(np.float32)
    np.savez_compressed(run_dir / "profiles.npz", **arrays)
    return events


def _clustered(
    n: int, rng: np.random.Generator, centres: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    label = np.arange(n) % len(centres)
    return centres[label] + 0.05 * rng.normal(size=(n, DIM)), label


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """40 users at step 1 in 3 clusters; at step 5, 20 of them unchanged, 20 moved a
    little, and 20 new users (10 exact twins of step-1 users); step 9 = step 5."""
    rng = np.random.default_rng(0)
    centres = 3 * np.eye(3, DIM) + 1.0
    v1, label1 = _clustered(40, rng, centres)
    v5 = v1.copy()
    v5[20:] += 0.01 * rng.normal(size=(20, DIM))
    twins = v1[:10]
    others, _ = _clustered(10, rng, centres)
    v5 = np.vstack([v5, twins, others])
    snaps = {1: (np.arange(40), v1), 5: (np.arange(60), v5), 9: (np.arange(60), v5.copy())}
    run_dir = tmp_path_factory.mktemp("run")
    events = _write_run(run_dir, snaps, 60)
    df = compute_maps(run_dir, seed=0)
    return {"dir": run_dir, "df": df, "label": label1, "events": events, "snaps": snaps}


def test_one_row_per_step_and_active_user(world: dict) -> None:
    df = world["df"]
    assert list(df.columns) == maps.COLUMNS
    assert df.groupby("step").size().to_dict() == {1: 40, 5: 60, 9: 60}
    assert not df.duplicated(["step", "user"]).any()
    assert np.isfinite(df[["x", "y"]].to_numpy()).all()
    row = df[(df.step == 5) & (df.user == 7)].iloc[0]
    assert (row.region, row.region_name, row.archetype_name) == (1, "R1", "A1")
    # the latest adoption up to the step
    assert row.solution == 507 and row.domain == 5 and bool(row.machine)
    assert row.channel == CHANNELS[7 % 5]
    assert df[(df.step == 1) & (df.user == 7)].iloc[0].solution == 107


def test_later_steps_share_the_first_map(world: dict) -> None:
    df = world["df"].set_index(["step", "user"])
    xy1 = df.loc[1][["x", "y"]].to_numpy()
    # unchanged profiles keep exactly their coordinates, at every later step
    for step in (5, 9):
        xy = df.loc[step][["x", "y"]].to_numpy()
        np.testing.assert_array_equal(xy[:20], xy1[:20])
    # moved and new users are transformed onto the same map: each lands with its cluster
    label = world["label"]
    centroids = np.array([xy1[label == k].mean(axis=0) for k in range(3)])
    xy5 = df.loc[5][["x", "y"]].to_numpy()
    expected = np.concatenate([label[20:40], label[:10], np.arange(10) % 3])
    nearest = np.argmin(((xy5[20:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (nearest == expected).mean() >= 0.9
    np.testing.assert_array_equal(df.loc[9][["x", "y"]].to_numpy(), xy5)


def test_deterministic_for_a_seed(world: dict, tmp_path: Path) -> None:
    _write_run(tmp_path, world["snaps"], 60)
    again = compute_maps(tmp_path, seed=0)
    np.testing.assert_array_equal(again[["x", "y"]].to_numpy(), world["df"][["x", "y"]].to_numpy())


def test_maps_parquet_written_and_reused(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    path = world["dir"] / "maps.parquet"
    assert path.exists()
    pd.testing.assert_frame_equal(pd.read_parquet(path), world["df"])

    def boom(*args: object) -> None:
        raise AssertionError("recomputed")

    monkeypatch.setattr(maps, "_place_all", boom)
    pd.testing.assert_frame_equal(compute_maps(world["dir"], seed=0), world["df"])
    with pytest.raises(AssertionError, match="recomputed"):  # another seed is not reused
        compute_maps(world["dir"], seed=1)
    profiles = world["dir"] / "profiles.npz"
    later = path.stat().st_mtime + 10
    os.utime(profiles, (later, later))  # newer profiles invalidate the cache
    with pytest.raises(AssertionError, match="recomputed"):
        compute_maps(world["dir"], seed=0)


def test_fit_on_a_sample_when_the_first_snapshot_is_large(world: dict, tmp_path: Path) -> None:
    _write_run(tmp_path, world["snaps"], 60)
    df = compute_maps(tmp_path, seed=0, sample=25)
    assert df.groupby("step").size().to_dict() == {1: 40, 5: 60, 9: 60}
    assert np.isfinite(df[["x", "y"]].to_numpy()).all()


@pytest.mark.parametrize("n_first", [1, 2, 5])
def test_tiny_inputs_do_not_crash(tmp_path: Path, n_first: int) -> None:
    rng = np.random.default_rng(n_first)
    v1 = rng.normal(size=(n_first, DIM))
    v2 = np.vstack([v1, rng.normal(size=(3, DIM))])
    snaps = {1: (np.arange(n_first), v1), 2: (np.arange(n_first + 3), v2)}
    _write_run(tmp_path, snaps, n_first + 3)
    df = compute_maps(tmp_path, seed=0)
    assert df.groupby("step").size().to_dict() == {1: n_first, 2: n_first + 3}
    assert np.isfinite(df[["x", "y"]].to_numpy()).all()
    np.testing.assert_array_equal(
        df[df.step == 2][["x", "y"]].to_numpy()[:n_first], df[df.step == 1][["x", "y"]].to_numpy()
    )


@pytest.mark.parametrize("color_by", ["region", "source", "solution"])
def test_plot_map(world: dict, color_by: str) -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    plot_map(ax, world["df"][world["df"].step == 5], color_by=color_by)
    assert ax.get_xlabel() == "UMAP 1" and ax.get_ylabel() == "UMAP 2"
    assert ax.get_title() and ax.get_legend() is not None
    assert not ax.get_xticks().size


def test_plot_map_rejects_unknown_colouring(world: dict) -> None:
    from matplotlib.figure import Figure

    with pytest.raises(ValueError, match="color_by"):
        plot_map(Figure().add_subplot(), world["df"], color_by="mood")
