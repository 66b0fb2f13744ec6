"""2-D maps of the platform's view of its users ("a vast ocean of features with little
wavetops each of which a person").

Each user's profile (the running mean of their chat embeddings, saved in a run directory's
``profiles.npz`` at the first, middle and last step) is placed on one UMAP map. The map is
fitted once, on the first snapshot, and every later snapshot is ``transform``-ed onto it, so
the steps share axes and one can watch people drift together as the sameness creeps in.

A user whose profile vector has not changed since they were last placed keeps exactly the
same coordinates (``transform`` of an unchanged point would only add jitter); everyone
else, new users included, is transformed. Tiny inputs degrade gracefully: with fewer
users than ``n_neighbors`` the neighbourhood shrinks; if the first snapshot has fewer than
3 users the map is fitted on the first snapshot that has 3; with none, a deterministic PCA
(or zeros) places the points.

The result (one row per snapshot step and active user) is cached in the run directory as
``maps.parquet``; it is reused while it is newer than ``profiles.npz`` and was computed
with the same ``seed`` and ``sample``.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MAPS_FILE = "maps.parquet"
_META_KEY = b"platform_sim.maps"
N_NEIGHBORS = 15
MIN_DIST = 0.1
COLUMNS = [
    "step",
    "user",
    "x",
    "y",
    "region",
    "region_name",
    "archetype_name",
    "solution",
    "domain",
    "machine",
    "channel",
]


def _load_profiles(run_dir: Path) -> list[tuple[int, np.ndarray, np.ndarray]]:
    with np.load(run_dir / "profiles.npz") as z:
        steps = [int(s) for s in np.asarray(z["steps"]).ravel()]
        return [
            (
                s,
                np.asarray(z[f"users_{s}"], dtype=np.int64),
                np.asarray(z[f"vectors_{s}"], dtype=np.float32),
            )
            for s in sorted(steps)
        ]


def _pca_place(vectors: np.ndarray) -> np.ndarray:
    """Deterministic placement of fewer than 3 points: top-2 principal axes (or zeros)."""
    n = len(vectors)
    out = np.zeros((n, 2), dtype=np.float32)
    if n < 2:
        return out
    centred = vectors - vectors.mean(axis=0)
    _, s, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    k = min(2, int((s > 1e-12).sum()))
    if k:
        proj = centred @ vt[:k].T
        # fix the sign so the result does not depend on the SVD's sign convention
        signs = np.sign(proj[np.argmax(np.abs(proj), axis=0), np.arange(k)])
        out[:, :k] = proj * np.where(signs == 0, 1.0, signs)
    return out


def _umap_class() -> type:
    """umap.UMAP with its all-pairs distances vectorised.

    Below 4096 points UMAP computes exact all-pairs distances with sklearn, but hands it
    UMAP's numba cosine as a Python callable, which sklearn loops over pair by pair
    (minutes for a few thousand users, in ``fit`` and in every ``transform``). Giving
    sklearn the name "cosine" computes the same distances (to float32 rounding) with BLAS.
    """
    import umap  # lazy: the first import costs seconds of numba compilation

    class _UMAP(umap.UMAP):
        def _validate_parameters(self) -> None:
            super()._validate_parameters()
            if self.metric == "cosine" and not self._sparse_data:
                self._input_distance_func = "cosine"

    return _UMAP


class Placer:
    """Fits UMAP once and places any set of profile vectors on that map."""

    def __init__(self, vectors: np.ndarray, seed: int, sample: int) -> None:
        n = len(vectors)
        rng = np.random.default_rng(seed)
        fit_idx = (
            np.sort(rng.choice(n, size=sample, replace=False))
            if n > max(sample, 2)
            else np.arange(n)
        )
        m = len(fit_idx)
        self.model = _umap_class()(
            n_neighbors=max(2, min(N_NEIGHBORS, m - 1)),
            min_dist=MIN_DIST,
            metric="cosine",
            init="spectral" if m >= 10 else "random",
            random_state=seed,
            transform_seed=seed,
            n_jobs=1,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = self.model.fit_transform(vectors[fit_idx])
        self.first = np.empty((n, 2), dtype=np.float32)
        self.first[fit_idx] = fitted
        rest = np.setdiff1d(np.arange(n), fit_idx)
        if len(rest):
            self.first[rest] = self.transform(vectors[rest])

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros((0, 2), dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self.model.transform(vectors), dtype=np.float32)


def _fit_snapshot(snapshots: list[tuple[int, np.ndarray, np.ndarray]]) -> int | None:
    """Index of the snapshot the map is fitted on: the first with at least 3 users."""
    return next((i for i, (_, u, _) in enumerate(snapshots) if len(u) >= 3), None)


def run_placer(run_dir: Path, seed: int = 0, sample: int = 5000) -> Placer:
    """The UMAP of a run's maps (as ``compute_maps`` fits it), to place new vectors on."""
    snapshots = _load_profiles(Path(run_dir))
    fit_at = _fit_snapshot(snapshots)
    if fit_at is None:
        raise ValueError(f"{run_dir}: no snapshot has 3 users to fit a map on")
    return Placer(snapshots[fit_at][2], seed, sample)


class _Known:
    """The latest placement of every user seen so far (sorted by user id)."""

    def __init__(self, users: np.ndarray, vectors: np.ndarray, xy: np.ndarray) -> None:
        order = np.argsort(users, kind="stable")
        self.users, self.vectors, self.xy = users[order], vectors[order], xy[order]

    def match(self, users: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in self, whether the user is known with exactly this vector)."""
        if len(self.users) == 0:
            return np.zeros(len(users), dtype=np.int64), np.zeros(len(users), dtype=bool)
        pos = np.searchsorted(self.users, users).clip(max=len(self.users) - 1)
        same = self.users[pos] == users
        same[same] = np.all(self.vectors[pos[same]] == vectors[same], axis=1)
        return pos, same

    def update(self, users: np.ndarray, vectors: np.ndarray, xy: np.ndarray) -> None:
        keep = ~np.isin(self.users, users)
        merged = _Known(
            np.concatenate([self.users[keep], users]),
            np.concatenate([self.vectors[keep], vectors]),
            np.concatenate([self.xy[keep], xy]),
        )
        self.users, self.vectors, self.xy = merged.users, merged.vectors, merged.xy


def _place_all(
    snapshots: list[tuple[int, np.ndarray, np.ndarray]], seed: int, sample: int
) -> list[np.ndarray]:
    """Coordinates for every snapshot, all on one map fitted to the first snapshot (the
    first with at least 3 users; with none, a deterministic PCA places each snapshot)."""
    fit_at = _fit_snapshot(snapshots)
    if fit_at is None:
        return [_pca_place(vectors) for _, _, vectors in snapshots]
    _, fit_users, fit_vectors = snapshots[fit_at]
    placer = Placer(fit_vectors, seed, sample)
    coords: list[np.ndarray] = [np.empty((0, 2), dtype=np.float32)] * len(snapshots)
    coords[fit_at] = placer.first
    at_fit = _Known(fit_users, fit_vectors, placer.first)
    known = _Known(fit_users, fit_vectors, placer.first)
    for i, (_, users, vectors) in enumerate(snapshots):
        if i == fit_at:
            continue
        ref = at_fit if i < fit_at else known
        pos, same = ref.match(users, vectors)
        xy = np.empty((len(users), 2), dtype=np.float32)
        xy[same] = ref.xy[pos[same]]
        xy[~same] = placer.transform(vectors[~same])
        coords[i] = xy
        if i > fit_at:
            known.update(users, vectors, xy)
    return coords


def _last_adoptions(events: pd.DataFrame, step: int) -> pd.DataFrame:
    """Each user's most recent adoption at or before ``step``."""
    upto = events.iloc[: int(np.searchsorted(events["step"].to_numpy(), step, side="right"))]
    return upto.drop_duplicates("user", keep="last").set_index("user")


def _frame(
    snapshots: list[tuple[int, np.ndarray, np.ndarray]],
    coords: list[np.ndarray],
    events: pd.DataFrame,
    population: pd.DataFrame,
) -> pd.DataFrame:
    events = events.sort_values(["step", "chat_id"], kind="stable")
    pop = population.set_index("user")
    channel_dtype = (
        events["channel"].dtype
        if isinstance(events["channel"].dtype, pd.CategoricalDtype)
        else pd.CategoricalDtype(sorted(events["channel"].dropna().unique()))
    )
    parts = []
    for (step, users, _), xy in zip(snapshots, coords, strict=True):
        last = _last_adoptions(events, step).reindex(users)
        people = pop.reindex(users)
        has = last["solution"].notna().to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "step": np.full(len(users), step, dtype=np.int64),
                    "user": users,
                    "x": xy[:, 0].astype(np.float32),
                    "y": xy[:, 1].astype(np.float32),
                    "region": people["region"].fillna(-1).to_numpy(np.int64),
                    "region_name": people["region_name"].astype(object).fillna("").to_numpy(),
                    "archetype_name": people["archetype_name"].astype(object).fillna("").to_numpy(),
                    "solution": np.where(has, last["solution"].fillna(-1), -1).astype(np.int64),
                    "domain": np.where(has, last["domain"].fillna(-1), -1).astype(np.int64),
                    "machine": last["machine"].astype("boolean").fillna(False).to_numpy(bool),
                    "channel": pd.Categorical(
                        last["channel"].astype(object).to_numpy(),
                        dtype=channel_dtype,
                    ),
                }
            )
        )
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def _cached(path: Path, profiles: Path, meta: dict[str, int]) -> pd.DataFrame | None:
    if not path.exists() or path.stat().st_mtime <= profiles.stat().st_mtime:
        return None
    try:
        stored = pq.read_schema(path).metadata or {}
        if json.loads(stored.get(_META_KEY, b"{}")) != meta:
            return None
        return pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException):
        return None


def _write(df: pd.DataFrame, path: Path, meta: dict[str, int]) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()}
    )
    with contextlib.suppress(OSError):  # a read-only run directory: maps are not cached
        pq.write_table(table, path)


def warm_up(dim: int = 384, seed: int = 0) -> None:
    """Compile UMAP's numba kernels (seconds to a minute, once per process) on random data,
    on both code paths: exact distances (< 4,096 points) and the nearest-neighbour search
    index built above that size, each fitted and then used to transform new points."""
    x = np.random.default_rng(seed).normal(size=(6000, dim)).astype(np.float32)
    for n, sample in ((300, 200), (6000, 4500)):
        Placer(x[:n], seed, sample).transform(x[:50])


def compute_maps(run_dir: Path, seed: int = 0, sample: int = 5000) -> pd.DataFrame:
    """2-D UMAP maps of the users' profiles at each snapshot step, all on one map.

    Fits UMAP (cosine, n_neighbors=15, min_dist=0.1, random_state=seed) once on the first
    snapshot (on a seeded sample of ``sample`` users if there are more, transforming the
    rest) and transforms every later snapshot onto it. Returns one row per (step, active
    user): step, user, x, y, region, region_name, archetype_name, and the user's most
    recent adoption up to that step (solution, -1 if none; its domain; machine; channel).
    Writes ``run_dir / "maps.parquet"`` and reuses it while it is newer than
    ``profiles.npz`` and was made with the same seed and sample.
    """
    run_dir = Path(run_dir)
    profiles = run_dir / "profiles.npz"
    out = run_dir / MAPS_FILE
    meta = {"seed": int(seed), "sample": int(sample)}
    cached = _cached(out, profiles, meta)
    if cached is not None:
        return cached
    snapshots = _load_profiles(run_dir)
    coords = _place_all(snapshots, seed, sample)
    events = pd.read_parquet(
        run_dir / "events.parquet",
        columns=["step", "chat_id", "user", "domain", "solution", "machine", "channel"],
    )
    population = pd.read_parquet(
        run_dir / "population.parquet",
        columns=["user", "region", "region_name", "archetype_name"],
    )
    df = _frame(snapshots, coords, events, population)
    _write(df, out, meta)
    return df


# --------------------------------------------------------------------------- plotting

SOURCE_COLOURS = {"human": "#1b9e77", "platform": "#d95f02"}
OTHER_GREY = "#c8c8c8"


def plot_map(
    ax: Any, df_step: pd.DataFrame, color_by: str = "region", title: str | None = None
) -> None:
    """Scatter one snapshot of :func:`compute_maps` on ``ax``.

    ``color_by``: ``"region"`` (legend by region name), ``"source"`` (platform vs human
    origin of each user's latest adopted solution) or ``"solution"`` (the 8 most common
    latest solutions coloured, the rest grey).
    """
    from matplotlib import colormaps

    size = 4 if len(df_step) > 2000 else 10
    kw: dict[str, Any] = {"s": size, "linewidths": 0, "alpha": 0.8}
    x, y = df_step["x"].to_numpy(), df_step["y"].to_numpy()
    if color_by == "region":
        names = df_step[["region", "region_name"]].drop_duplicates("region").sort_values("region")
        cmap = colormaps["tab10"]
        for i, (region, name) in enumerate(names.itertuples(index=False)):
            sel = (df_step["region"] == region).to_numpy()
            ax.scatter(x[sel], y[sel], color=cmap(i % 10), label=str(name), **kw)
        legend_title = "region"
    elif color_by == "source":
        machine = df_step["machine"].to_numpy(bool)
        for label, sel in (("human", ~machine), ("platform", machine)):
            share = f" ({sel.mean():.0%})" if len(sel) else ""
            ax.scatter(x[sel], y[sel], color=SOURCE_COLOURS[label], label=label + share, **kw)
        legend_title = "solution source"
    elif color_by == "solution":
        sols = df_step["solution"].to_numpy()
        counts = pd.Series(sols[sols >= 0]).value_counts()
        top = counts.index[:8].tolist()
        rest = ~np.isin(sols, top)
        ax.scatter(x[rest], y[rest], color=OTHER_GREY, label="other", **kw)
        cmap = colormaps["tab10"]
        for i, sol in enumerate(top):
            sel = sols == sol
            ax.scatter(x[sel], y[sel], color=cmap(i), label=f"#{sol} ({sel.sum()})", **kw)
        legend_title = "latest solution"
    else:
        raise ValueError(f"color_by must be 'region', 'source' or 'solution', not {color_by!r}")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    if title is None:
        steps = df_step["step"].unique() if "step" in df_step else []
        when = f" at step {int(steps[0])}" if len(steps) == 1 else ""
        title = f"The platform's map of {len(df_step):,} users{when}"
    ax.set_title(title)
    ax.legend(
        title=legend_title,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        markerscale=2.5 if size < 10 else 1.5,
        frameon=False,
    )
