"""The platform's feature graph: "to a platform, each user appeared as a sea of semantic
features — a thicket of psychological markers clustered into relationships with one
another".

The platform's features are the k-means clusters of chat embeddings (``events.feature``).
Two features are related when the same users have chats in both: the graph's edges carry
the number of such users (``weight``) and their positive pointwise mutual information
(``pmi``). Louvain communities of this graph are what the platform can "see" of a person;
comparing each user's dominant community with their true marker archetype (adjusted mutual
information) measures how much of the hidden psychology the platform recovers from chats
alone.

Counting is vectorised: a sparse user x feature incidence matrix ``X`` and ``X.T @ X``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.metrics import adjusted_mutual_info_score


@dataclass
class FeatureGraph:
    """The feature co-occurrence graph, its communities and how well they match people.

    ``graph`` nodes are feature ids with attributes ``size`` (chats), ``users`` (distinct
    users), ``top_domain``, ``top_markers`` (the 3 markers most over-represented among the
    feature's users) and ``label``; edges carry ``weight`` (users with chats in both) and
    ``pmi`` (positive pointwise mutual information over users).
    """

    graph: nx.Graph
    communities: list[set[int]]
    user_community: pd.Series
    ami: float
    ami_region: float


def pmi_matrix(cooc: np.ndarray, n_users: int) -> np.ndarray:
    """Positive PMI of feature pairs from a co-occurrence matrix over users.

    ``cooc[i, j]`` is the number of users with chats in both ``i`` and ``j`` and
    ``cooc[i, i]`` the number with chats in ``i``; with ``N = n_users``,
    ``pmi = max(0, log(cooc[i, j] * N / (cooc[i, i] * cooc[j, j])))`` (0 where undefined).
    """
    cooc = np.asarray(cooc, dtype=np.float64)
    n = np.diag(cooc)
    expected = np.outer(n, n) / max(n_users, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(cooc / expected)
    pmi[~np.isfinite(pmi)] = 0.0
    return np.maximum(pmi, 0.0)


def _marker_matrix(population: pd.DataFrame, rows: pd.Index) -> tuple[sparse.csr_matrix, list]:
    """Sparse users (in ``rows`` order) x markers incidence, and the marker ids."""
    pop = population.set_index("user")["markers"].reindex(rows)
    lists = [[] if m is None or not hasattr(m, "__len__") else list(m) for m in pop]
    lengths = np.fromiter((len(m) for m in lists), dtype=np.int64, count=len(lists))
    flat = pd.Series([m for ms in lists for m in ms], dtype=object)
    codes, names = pd.factorize(flat, sort=True)
    r = np.repeat(np.arange(len(rows)), lengths)
    mat = sparse.csr_matrix(
        (np.ones(len(codes), dtype=np.float64), (r, codes)), shape=(len(rows), len(names))
    )
    mat.data[:] = 1.0  # a marker listed twice still counts once
    return mat, [str(x) for x in names]


def _label(feature: int, markers: list[str]) -> str:
    return f"{feature}: " + " × ".join(markers[:2]) if markers else str(feature)


def build_feature_graph(
    events: pd.DataFrame,
    population: pd.DataFrame,
    seed: int = 0,
    min_users: int = 3,
    until_step: int | None = None,
) -> FeatureGraph:
    """Build the platform's feature co-occurrence graph from a run's events.

    Uses the chats up to ``until_step`` (all if None). Edges join features shared by at
    least ``min_users`` users with positive PMI. Communities are Louvain (seeded), largest
    first; each user belongs to the community holding most of their chats (ties: the
    larger community). ``ami``/``ami_region``: adjusted mutual information between users'
    communities and their archetype/region, over users with chats.
    """
    ev = events
    if until_step is not None:
        ev = ev[ev["step"].to_numpy() <= until_step]
    user_codes, users = pd.factorize(ev["user"].to_numpy(), sort=True)
    feat_codes, features = pd.factorize(ev["feature"].to_numpy(), sort=True)
    n_u, n_f = len(users), len(features)
    counts = sparse.csr_matrix(
        (np.ones(len(ev), dtype=np.float64), (user_codes, feat_codes)), shape=(n_u, n_f)
    )
    counts.sum_duplicates()
    incidence = counts.copy()
    incidence.data[:] = 1.0
    cooc = (incidence.T @ incidence).toarray()
    pmi = pmi_matrix(cooc, n_u)
    n_users_f = np.diag(cooc).astype(np.int64)
    n_chats_f = np.asarray(counts.sum(axis=0)).ravel().astype(np.int64)

    # the most common domain of each feature's chats
    domains = ev["domain"].to_numpy(np.int64)
    n_d = int(domains.max()) + 1 if len(domains) else 1
    dom_counts = np.bincount(feat_codes * n_d + domains, minlength=n_f * n_d).reshape(n_f, n_d)
    top_domain = dom_counts.argmax(axis=1)

    # markers most over-represented among each feature's users: observed / expected
    # user counts, with a pseudocount of one so rare markers do not dominate
    user_index = pd.Index(users)
    markers, marker_names = _marker_matrix(population, user_index)
    observed = (incidence.T @ markers).toarray()
    base = np.asarray(markers.sum(axis=0)).ravel() / max(n_u, 1)
    lift = (observed + 1.0) / (np.outer(n_users_f, base) + 1.0)
    lift[observed == 0] = 0.0

    graph = nx.Graph()
    for i, f in enumerate(features.tolist()):
        if len(marker_names):
            order = np.lexsort((np.arange(len(marker_names)), -lift[i]))
            top = [marker_names[j] for j in order[:3] if observed[i, j] > 0]
        else:
            top = []
        graph.add_node(
            int(f),
            size=int(n_chats_f[i]),
            users=int(n_users_f[i]),
            top_domain=int(top_domain[i]),
            top_markers=top,
            label=_label(int(f), top),
        )
    iu, ju = np.triu_indices(n_f, k=1)
    keep = (pmi[iu, ju] > 0) & (cooc[iu, ju] >= min_users)
    for i, j in zip(iu[keep].tolist(), ju[keep].tolist(), strict=True):
        graph.add_edge(
            int(features[i]), int(features[j]), weight=int(cooc[i, j]), pmi=float(pmi[i, j])
        )

    if graph.number_of_nodes():
        found = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    else:
        found = []
    communities = sorted((set(int(x) for x in c) for c in found), key=lambda c: (-len(c), min(c)))

    # each user's community: the one holding most of their chats
    comm_of = np.empty(n_f, dtype=np.int64)
    pos = {int(f): i for i, f in enumerate(features.tolist())}
    for k, c in enumerate(communities):
        for f in c:
            comm_of[pos[f]] = k
    member = sparse.csr_matrix(
        (np.ones(n_f), (np.arange(n_f), comm_of)), shape=(n_f, max(len(communities), 1))
    )
    per_comm = (counts @ member).toarray() if n_u else np.zeros((0, 1))
    user_comm = per_comm.argmax(axis=1) if n_u else np.zeros(0, dtype=np.int64)
    user_community = pd.Series(
        user_comm.astype(np.int64), index=pd.Index(users, name="user"), name="community"
    )

    pop = population.set_index("user").reindex(user_index)
    ami = _ami(pop["archetype"], user_comm) if "archetype" in pop else float("nan")
    ami_region = _ami(pop["region"], user_comm) if "region" in pop else float("nan")
    return FeatureGraph(graph, communities, user_community, ami, ami_region)


def _ami(truth: pd.Series, labels: np.ndarray) -> float:
    ok = truth.notna().to_numpy()
    if ok.sum() < 2:
        return float("nan")
    return float(adjusted_mutual_info_score(truth.to_numpy()[ok], labels[ok]))


def plot_feature_graph(ax: Any, fg: FeatureGraph, seed: int = 0) -> None:
    """Draw the feature graph on ``ax``: spring layout (seeded, size-normalised weights),
    node size ~ users, colour = community, edge opacity ~ weight; the biggest feature of
    each large community is labelled with its top markers ("anxieties X aspirations")."""
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection

    g = fg.graph
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    n_comm = len(fg.communities)
    ax.set_title(
        f"The platform's feature graph: {g.number_of_nodes()} features, {n_comm} communities\n"
        f"AMI with archetypes {fg.ami:.2f}, with regions {fg.ami_region:.2f}"
    )
    if g.number_of_nodes() == 0:
        return
    nodes = sorted(g.nodes)
    # lay out by the size-normalised association weight / sqrt(users_a * users_b): raw
    # counts would pull every big feature into one central hairball
    layout = nx.Graph()
    layout.add_nodes_from(nodes)
    for a, b, w in g.edges(data="weight"):
        layout.add_edge(a, b, w=w / np.sqrt(g.nodes[a]["users"] * g.nodes[b]["users"]))
    pos = nx.spring_layout(layout, seed=seed, weight="w")
    xy = np.array([pos[n] for n in nodes])
    comm = {n: k for k, c in enumerate(fg.communities) for n in c}
    cmap = colormaps["tab10" if n_comm <= 10 else "tab20"]
    colours = [cmap(comm.get(n, 0) % cmap.N) for n in nodes]
    users = np.array([g.nodes[n]["users"] for n in nodes], dtype=float)
    sizes = 30 + 600 * users / max(users.max(), 1.0)

    edges = list(g.edges(data="weight"))
    if edges:
        w = np.array([e[2] for e in edges], dtype=float)
        rgba = np.zeros((len(edges), 4))
        rgba[:, 3] = 0.03 + 0.5 * w / w.max()
        segs = [(pos[a], pos[b]) for a, b, _ in edges]
        ax.add_collection(LineCollection(segs, colors=rgba, linewidths=0.8, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=colours, edgecolors="white", linewidths=0.5, zorder=2)
    # label the biggest feature of each of the largest communities, pushed outwards
    centre = xy.mean(axis=0)
    index = {n: i for i, n in enumerate(nodes)}
    for c in fg.communities[:6]:
        i = max((index[n] for n in c), key=lambda j: (users[j], -nodes[j]))
        markers = g.nodes[nodes[i]]["top_markers"]
        text = "\n× ".join(markers) if markers else g.nodes[nodes[i]]["label"]
        away = xy[i] - centre
        away = away / (np.linalg.norm(away) or 1.0)
        ax.annotate(
            text, xy[i], xytext=tuple(40 * away), textcoords="offset points", fontsize=7,
            ha="left" if away[0] >= 0 else "right", va="center", zorder=3,
            color=cmap(comm.get(nodes[i], 0) % cmap.N),
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"},
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
        )  # fmt: skip
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
