import numpy as np
import pytest

from platform_sim.featurespace import Codebook, FeatureSpace


def unit(*rows: list[float]) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


E = np.eye(3)
DIAG = unit([1, 1, 0])


@pytest.fixture
def space() -> FeatureSpace:
    """Three chats: e0 by user 0, e1 by user 1, (e0+e1)/sqrt2 by user 2."""
    fs = FeatureSpace(dim=3, n_users=4)
    ids = fs.add_chats(np.vstack([E[:2], DIAG]), user=[0, 1, 2], step=0, region=0, domain=5)
    np.testing.assert_array_equal(ids, [0, 1, 2])
    return fs


def test_search_chats_exact_neighbours(space):
    D, idx = space.search_chats(np.vstack([E[0], E[1] * 3.0]), k=2)  # queries normalised
    np.testing.assert_array_equal(idx, [[0, 2], [1, 2]])
    np.testing.assert_allclose(D, [[1, 1 / np.sqrt(2)], [1, 1 / np.sqrt(2)]], rtol=1e-6)
    assert D.dtype == np.float32 and idx.dtype == np.int64 and D.shape == (2, 2)


def test_search_pads_with_minus_one(space):
    D, idx = space.search_chats(E[[2]], k=5)
    assert idx.shape == (1, 5)
    assert sorted(idx[0, :3]) == [0, 1, 2]
    np.testing.assert_array_equal(idx[0, 3:], [-1, -1])
    _, idx = FeatureSpace(3, 2).search_chats(E[[0]], k=2)
    np.testing.assert_array_equal(idx, [[-1, -1]])


def test_bad_shapes_and_ids_are_refused(space):
    with pytest.raises(ValueError, match=r"\(m, 3\)"):
        space.search_chats(np.ones((2, 4)), k=1)
    with pytest.raises(ValueError, match="user ids"):
        space.add_chats(E[:1], user=[4], step=1, region=0, domain=0)
    with pytest.raises(ValueError, match="chat ids"):
        space.record_outcomes([3], solution=[0], outcome=[1], machine=[False])
    with pytest.raises(ValueError, match="k must be"):
        space.search_chats(E[:1], k=0)


def test_metadata_round_trip(space):
    ids = space.add_chats(E[[2, 2]], user=[3, 0], step=7, region=[1, 2], domain=[3, 4])
    np.testing.assert_array_equal(ids, [3, 4])
    assert len(space) == 5
    space.record_outcomes([4, 1], solution=[9, 8], outcome=[1, 0], machine=[True, False])
    np.testing.assert_array_equal(space.user, [0, 1, 2, 3, 0])
    np.testing.assert_array_equal(space.step, [0, 0, 0, 7, 7])
    np.testing.assert_array_equal(space.region, [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(space.domain, [5, 5, 5, 3, 4])
    np.testing.assert_array_equal(space.solution, [-1, 8, -1, -1, 9])
    np.testing.assert_array_equal(space.outcome, [-1, 0, -1, -1, 1])
    np.testing.assert_array_equal(space.machine, [False, False, False, False, True])
    assert space.outcome.dtype == np.int8 and space.machine.dtype == np.bool_
    with pytest.raises(ValueError):
        space.user[0] = 3  # read-only views: write through record_outcomes
    np.testing.assert_allclose(space.chat_vectors([2, 0]), np.vstack([DIAG, E[:1]]), atol=1e-7)


def test_capacity_growth_keeps_data_intact():
    rng = np.random.default_rng(0)
    fs = FeatureSpace(dim=8, n_users=50)
    all_users, all_vecs = [], []
    for step in range(40):  # 40 * 97 rows: several doublings past the initial capacity
        x = rng.standard_normal((97, 8))
        users = rng.integers(0, 50, 97)
        ids = fs.add_chats(x, users, step, region=users % 3, domain=step % 4)
        fs.record_outcomes(ids[::2], solution=ids[::2], outcome=1, machine=True)
        all_users.append(users)
        all_vecs.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    users, vecs = np.concatenate(all_users), np.vstack(all_vecs)
    assert len(fs) == len(users) == fs.index.ntotal
    np.testing.assert_array_equal(fs.user, users)
    np.testing.assert_array_equal(fs.region, users % 3)
    np.testing.assert_array_equal(fs.step, np.repeat(np.arange(40), 97))
    written = (np.arange(len(fs)) % 97) % 2 == 0
    np.testing.assert_array_equal(fs.outcome, np.where(written, 1, -1))
    np.testing.assert_array_equal(fs.solution, np.where(written, np.arange(len(fs)), -1))
    np.testing.assert_allclose(fs.chat_vectors(np.arange(len(fs))), vecs, atol=1e-6)
    _, idx = fs.search_chats(vecs[[5, 3000]], k=1)
    np.testing.assert_array_equal(idx[:, 0], [5, 3000])


def test_profiles_are_running_means_with_repeats_in_a_batch():
    fs = FeatureSpace(dim=3, n_users=3)
    fs.update_profiles([0], E[[0]])
    fs.update_profiles([0, 1, 0], np.vstack([E[1], E[2], DIAG]))  # user 0 twice
    expected0 = (E[0] + E[1] + DIAG[0]) / 3
    np.testing.assert_allclose(fs.profiles[0], expected0, rtol=1e-6)
    np.testing.assert_allclose(fs.profiles[1], E[2], rtol=1e-6)
    np.testing.assert_array_equal(fs.profiles[2], 0)
    np.testing.assert_array_equal(fs.n_chats_of_user, [3, 1, 0])
    assert fs.profiles.dtype == np.float32


def profiled_space() -> FeatureSpace:
    """Users 0..3 with profiles e0, e1, diag(e0, e1), e2; user 4 has no chat."""
    fs = FeatureSpace(dim=3, n_users=5)
    fs.update_profiles([0, 1, 2, 3], np.vstack([E[0], E[1], DIAG, E[2]]))
    return fs


def test_search_users_excludes_self_and_pads():
    fs = profiled_space()
    q = np.vstack([E[0], unit([2, 1, 0])[0]])
    D, idx = fs.search_users(q, k=2, exclude=[0, 0])  # user 0 is nearest to both: dropped
    assert idx[0, 0] == 2 and idx[0, 1] in (1, 3)  # users 1 and 3 tie at cosine 0
    np.testing.assert_array_equal(idx[1], [2, 1])
    np.testing.assert_allclose(D[0], [1 / np.sqrt(2), 0], atol=1e-6)
    np.testing.assert_allclose(D[1], [3 / np.sqrt(10), 1 / np.sqrt(5)], atol=1e-6)
    _, idx = fs.search_users(E[[0]], k=5, exclude=[0])
    assert sorted(idx[0, :3]) == [1, 2, 3] and list(idx[0, 3:]) == [-1, -1]  # 4 never chatted
    _, idx = fs.search_users(E[[0]], k=1)
    np.testing.assert_array_equal(idx, [[0]])


def test_nearest_user_pairs():
    fs = profiled_space()
    pairs = fs.nearest_user_pairs()
    assert pairs.dtype == np.int64 and pairs.shape == (4, 2)
    nearest = dict(pairs.tolist())
    assert nearest[0] == 2 and nearest[1] == 2 and nearest[2] in (0, 1)
    assert nearest[3] in (0, 1, 2) and nearest[3] != 3
    lonely = FeatureSpace(dim=3, n_users=2)
    lonely.update_profiles([1], E[[1]])
    assert lonely.nearest_user_pairs().shape == (0, 2)


def test_codebook_is_deterministic_and_assign_matches_centroids():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((4, 16))
    x = np.repeat(centres, 50, axis=0) + 0.05 * rng.standard_normal((200, 16))
    a = Codebook.fit(x, n_features=4, seed=7)
    b = Codebook.fit(x, n_features=4, seed=7)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    assert a.centroids.shape == (4, 16) and a.centroids.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a.centroids, axis=1), 1, rtol=1e-5)
    labels = a.assign(x)
    assert labels.dtype == np.int64 and labels.shape == (200,)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_array_equal(labels, np.argmax(xn @ a.centroids.T, axis=1))
    assert len(np.unique(labels)) == 4


def test_codebook_size_is_capped_by_data():
    x = np.random.default_rng(2).standard_normal((40, 5))
    assert Codebook.fit(x, n_features=64, seed=0).n_features == 5  # 40 // 8
    assert Codebook.fit(x[:3], n_features=64, seed=0).n_features == 1
    with pytest.raises(ValueError):
        Codebook.fit(x[:0], n_features=4, seed=0)
