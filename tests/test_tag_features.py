import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from lightfm import LightFM
from lightfm.data import Dataset

from recasketch.preprocess import ItemFeatures, build_item_features
from recasketch.study.tag_features import (SEPARATE_TAG_REGULARISATION_NOTE, drop_rare_features,
                                           identity_for_popular, n_identity_columns, permuted_tags,
                                           scale_features, tags_only, weight_tags)

ITEMS = ["a", "b", "c", "d"]
# a: 3 features, b: 1, c: none, d: 2. Sorted columns: category_cars, tag_fast, tag_red;
# used on 2, 1 and 3 models.
TAGS = {"a": ["category_cars", "tag_fast", "tag_red"], "b": ["tag_red"], "c": [],
        "d": ["category_cars", "tag_red"]}


def _frame(tags=TAGS):
    rows = [(m, *key.split("_", 1)) for m, keys in tags.items() for key in keys]
    return pd.DataFrame(rows, columns=["mid", "type", "value"])


@pytest.fixture
def base():
    return build_item_features(_frame(), ITEMS, identity=True)


def _dense(rows):
    return np.array(rows, dtype=np.float32)


def _check_csr(m):
    assert sp.isspmatrix_csr(m) and m.dtype == np.float32 and m.has_sorted_indices


def test_fixture_is_the_expected_one_hot(base):
    assert base.feature_names.tolist() == [
        "item_a", "item_b", "item_c", "item_d", "category_cars", "tag_fast", "tag_red"]
    np.testing.assert_array_equal(base.matrix.toarray(), _dense([
        [1, 0, 0, 0, 1, 1, 1],
        [0, 1, 0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 1, 0, 1]]))
    assert n_identity_columns(base) == 4


# ---------------------------------------------------------------- weight_tags


def test_weight_tags_exact_on_hand_example(base):
    before = base.matrix.copy()
    third, half = np.float32(1 / 3), np.float32(1 / 2)
    expected = {
        "none": base.matrix.toarray(),
        "per_tag": _dense([
            [1, 0, 0, 0, third, third, third],
            [0, 1, 0, 0, 0, 0, 1],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, 1, half, 0, half]]),
        "l1": _dense([
            [0.25, 0, 0, 0, 0.25, 0.25, 0.25],
            [0, half, 0, 0, 0, 0, half],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, third, third, 0, third]]),
    }
    for scheme, want in expected.items():
        out = weight_tags(base.matrix, 4, scheme)
        _check_csr(out)
        np.testing.assert_array_equal(out.toarray(), want, err_msg=scheme)
        assert out.nnz == base.matrix.nnz
        assert out is not base.matrix
    # The input is left as it was.
    assert (base.matrix != before).nnz == 0 and base.matrix.data.tolist() == before.data.tolist()


def test_weight_tags_default_is_none_and_copies(base):
    out = weight_tags(base.matrix, 4)
    out.data[:] = 7
    assert np.all(base.matrix.data == 1)


def test_per_tag_features_sum_to_one_and_identity_stays_one():
    rng = np.random.default_rng(3)
    n_items, n_tags = 40, 25
    tags = sp.random(n_items, n_tags, density=0.15, format="csr", random_state=rng,
                     dtype=np.float32)
    tags.data[:] = 1
    matrix = sp.hstack([sp.identity(n_items, format="csr", dtype=np.float32), tags], format="csr")
    out = weight_tags(matrix, n_items, "per_tag")
    feature_sums = np.asarray(out[:, n_items:].sum(axis=1)).ravel()
    has_tags = tags.getnnz(axis=1) > 0
    np.testing.assert_allclose(feature_sums[has_tags], 1.0, rtol=1e-6)
    assert np.all(feature_sums[~has_tags] == 0)
    np.testing.assert_array_equal(out[:, :n_items].toarray(), np.eye(n_items, dtype=np.float32))
    l1 = weight_tags(matrix, n_items, "l1")
    np.testing.assert_allclose(np.asarray(l1.sum(axis=1)).ravel(), 1.0, rtol=1e-6)


def _lightfm_dataset_matrix(tags, weight=None):
    """LightFM's own Dataset, identity features on, normalize=True, columns in our order."""
    keys = sorted({k for ks in tags.values() for k in ks})
    dataset = Dataset(user_identity_features=True, item_identity_features=True)
    dataset.fit(users=["u"], items=ITEMS, item_features=keys)
    if weight is None:
        data = [(m, ks) for m, ks in tags.items()]
    else:
        data = [(m, {k: weight for k in ks}) for m, ks in tags.items()]
    return dataset.build_item_features(data, normalize=True)


def test_l1_equals_lightfm_dataset_normalisation(base):
    theirs = _lightfm_dataset_matrix(TAGS)
    ours = weight_tags(base.matrix, 4, "l1")
    assert theirs.dtype == ours.dtype == np.float32
    np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
    # With weighted features too: LightFM normalises {feature: weight} rows the same way.
    theirs = _lightfm_dataset_matrix(TAGS, weight=0.3)
    ours = weight_tags(scale_features(base.matrix, 4, 0.3), 4, "l1")
    np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
    assert not np.array_equal(ours.toarray(), weight_tags(base.matrix, 4, "l1").toarray())


def test_l1_keeps_an_empty_row_empty_where_lightfm_refuses(base):
    # Without the identity block, model c has an empty row.
    only = tags_only(base, 4).matrix
    out = weight_tags(only, 0, "l1")
    np.testing.assert_array_equal(out.toarray(), _dense([
        [1 / 3, 1 / 3, 1 / 3], [0, 0, 1], [0, 0, 0], [0.5, 0, 0.5]]))
    dataset = Dataset(item_identity_features=False)
    dataset.fit(users=["u"], items=ITEMS, item_features=["category_cars", "tag_fast", "tag_red"])
    with pytest.raises(ValueError, match="zero norm"):
        dataset.build_item_features(TAGS.items(), normalize=True)


def test_weight_tags_drops_stored_zeros_before_counting():
    m = sp.csr_matrix((np.array([1, 1, 0, 1], dtype=np.float32), np.array([0, 1, 2, 3]),
                       np.array([0, 4])), shape=(1, 4))
    np.testing.assert_array_equal(weight_tags(m, 1, "per_tag").toarray(),
                                  _dense([[1, 0.5, 0, 0.5]]))


@pytest.mark.parametrize("scheme", ["None", "tfidf", "", None])
def test_weight_tags_unknown_scheme(base, scheme):
    with pytest.raises(ValueError, match="Unknown scheme"):
        weight_tags(base.matrix, 4, scheme)


def test_weight_tags_bad_input(base):
    with pytest.raises(ValueError, match="n_identity=8 is larger than the matrix's 7 columns"):
        weight_tags(base.matrix, 8, "none")
    with pytest.raises(ValueError, match="n_identity must be >= 0"):
        weight_tags(base.matrix, -1, "none")
    with pytest.raises(TypeError, match="n_identity must be an integer"):
        weight_tags(base.matrix, 4.0, "none")
    with pytest.raises(TypeError, match="n_identity must be an integer"):
        weight_tags(base.matrix, True, "none")
    with pytest.raises(TypeError, match="got an ItemFeatures; pass its .matrix"):
        weight_tags(base, 4, "none")
    with pytest.raises(TypeError, match="wrap a dense array"):
        weight_tags(base.matrix.toarray(), 4, "none")
    bad = base.matrix.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        weight_tags(bad, 4, "l1")


# ---------------------------------------------------------------- scale_features


def test_scale_features_exact_and_bad_factor(base):
    out = scale_features(base.matrix, 4, 2.5)
    _check_csr(out)
    want = base.matrix.toarray()
    want[:, 4:] *= 2.5
    np.testing.assert_array_equal(out.toarray(), want)
    assert np.all(base.matrix.data == 1)
    for factor in (0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="factor must be positive and finite"):
            scale_features(base.matrix, 4, factor)
    with pytest.raises(TypeError, match="factor must be a real number"):
        scale_features(base.matrix, 4, "2")
    with pytest.raises(ValueError, match="larger than the matrix"):
        scale_features(base.matrix, 9, 2.0)


# ---------------------------------------------------------------- drop_rare_features


def test_drop_rare_features_exact(base):
    # category_cars is on 2 models, tag_fast on 1, tag_red on 3.
    every = ["category_cars", "tag_fast", "tag_red"]
    kept = {0: every, 1: every,
            2: ["category_cars", "tag_red"], 3: ["tag_red"], 4: []}
    for min_models, names in kept.items():
        out = drop_rare_features(base, 4, min_models)
        _check_csr(out.matrix)
        assert out.feature_names.tolist() == [f"item_{m}" for m in ITEMS] + names
        # Every kept column is the input column of the same name.
        for j, name in enumerate(out.feature_names):
            np.testing.assert_array_equal(
                out.matrix[:, j].toarray(), base.matrix[:, base.feature_index(name)].toarray())
    out = drop_rare_features(base, 4, 3)
    np.testing.assert_array_equal(out.matrix.toarray(), _dense([
        [1, 0, 0, 0, 1], [0, 1, 0, 0, 1], [0, 0, 1, 0, 0], [0, 0, 0, 1, 1]]))


def test_drop_rare_features_never_drops_identity():
    # An identity column is used by one model; min_models=2 must keep it.
    m = sp.hstack([sp.identity(3, format="csr", dtype=np.float32),
                   sp.csr_matrix(_dense([[1, 1], [1, 0], [0, 0]]))], format="csr")
    names = np.array(["item_x", "item_y", "item_z", "tag_p", "tag_q"], dtype=object)
    out = drop_rare_features(ItemFeatures(m, names), 3, 2)
    assert out.feature_names.tolist() == ["item_x", "item_y", "item_z", "tag_p"]
    # With n_identity=0 every column counts as a feature.
    out = drop_rare_features(ItemFeatures(m, names), 0, 2)
    assert out.feature_names.tolist() == ["tag_p"]


def test_drop_rare_features_bad_input(base):
    with pytest.raises(ValueError, match="min_models must be >= 0, got -1"):
        drop_rare_features(base, 4, -1)
    with pytest.raises(TypeError, match="min_models must be an integer"):
        drop_rare_features(base, 4, 2.5)
    with pytest.raises(ValueError, match="n_identity=10 is larger"):
        drop_rare_features(base, 10, 2)
    with pytest.raises(TypeError, match="must be an ItemFeatures"):
        drop_rare_features(base.matrix, 4, 2)
    with pytest.raises(ValueError, match="6 feature names for a matrix of 7 columns"):
        drop_rare_features(ItemFeatures(base.matrix, base.feature_names[:6]), 4, 2)


# ---------------------------------------------------------------- identity_for_popular


def test_identity_for_popular_exact(base):
    out = identity_for_popular(base, np.array([5, 0, 2, 9]), min_likes=2)
    _check_csr(out.matrix)
    assert out.feature_names.tolist() == [
        "item_a", "item_c", "item_d", "category_cars", "tag_fast", "tag_red"]
    np.testing.assert_array_equal(out.matrix.toarray(), _dense([
        [1, 0, 0, 1, 1, 1],
        [0, 0, 0, 0, 0, 1],  # b: tags only
        [0, 1, 0, 0, 0, 0],
        [0, 0, 1, 1, 0, 1]]))
    assert n_identity_columns(out) == 3
    # min_likes=0 keeps the input.
    same = identity_for_popular(base, [0, 0, 0, 0], 0)
    np.testing.assert_array_equal(same.matrix.toarray(), base.matrix.toarray())


def test_identity_for_popular_counts_a_likes_matrix(base):
    train = sp.csr_matrix(_dense([[1, 0, 1, 1], [1, 0, 0, 1], [1, 0, 0, 0]]))
    # A stored zero in column b is not a like.
    train = sp.csr_matrix((np.append(train.data, 0), np.append(train.indices, 1),
                           np.array([0, 3, 5, 7])), shape=train.shape)
    assert train.getnnz(axis=0)[1] == 1
    from_matrix = identity_for_popular(base, train, 2)
    from_counts = identity_for_popular(base, [3, 0, 1, 2], 2)
    assert from_matrix.feature_names.tolist() == from_counts.feature_names.tolist()
    assert (from_matrix.matrix != from_counts.matrix).nnz == 0
    assert from_matrix.feature_names[:2].tolist() == ["item_a", "item_d"]
    # At min_likes=1 the stored zero must not give b its identity back.
    assert identity_for_popular(base, train, 1).feature_names[:3].tolist() == [
        "item_a", "item_c", "item_d"]


def test_model_with_neither_identity_nor_tags_gets_an_empty_row(base):
    # c has 1 like (< 2) and no tags.
    out = identity_for_popular(base, [5, 0, 1, 9], min_likes=2)
    assert out.matrix.getnnz(axis=1).tolist() == [4, 1, 0, 3]
    # LightFM gives such an item a zero embedding and a zero bias: its score is the user's bias.
    likes = sp.csr_matrix(_dense([[1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 0, 1]]))
    model = LightFM(loss="warp", no_components=4, random_state=0)
    model.fit(likes, item_features=out.matrix, epochs=5)
    biases, embeddings = model.get_item_representations(out.matrix)
    assert biases[2] == 0 and np.all(embeddings[2] == 0)
    assert np.all(embeddings[[0, 1, 3]] != 0)
    users = np.arange(3)
    scores = model.predict(users, np.full(3, 2), item_features=out.matrix)
    np.testing.assert_array_equal(scores, model.user_biases[users])


def test_identity_for_popular_bad_input(base):
    with pytest.raises(ValueError, match="min_likes must be >= 0, got -2"):
        identity_for_popular(base, [1, 1, 1, 1], -2)
    with pytest.raises(ValueError, match=r"one count per model, shape \(4,\)"):
        identity_for_popular(base, [1, 1, 1], 1)
    with pytest.raises(ValueError, match="needs 4 columns"):
        identity_for_popular(base, sp.csr_matrix((2, 3), dtype=np.float32), 1)
    with pytest.raises(ValueError, match="non-negative"):
        identity_for_popular(base, [1, -1, 1, 1], 1)
    with pytest.raises(TypeError, match="numeric counts"):
        identity_for_popular(base, ["x", "y", "z", "w"], 1)
    narrowed = identity_for_popular(base, [5, 0, 2, 9], 2)
    with pytest.raises(ValueError, match="not an identity block"):
        identity_for_popular(narrowed, [5, 0, 2, 9], 2)
    no_identity = build_item_features(_frame(), ITEMS, identity=False)
    with pytest.raises(ValueError, match="too few for an identity block"):
        identity_for_popular(no_identity, [5, 0, 2, 9], 2)


# ---------------------------------------------------------------- permuted_tags


@pytest.fixture
def random_features():
    rng = np.random.default_rng(11)
    n_items, n_tags = 60, 30
    tags = sp.random(n_items, n_tags, density=0.12, format="csr", random_state=rng,
                     dtype=np.float32)
    tags.data[:] = 1
    matrix = sp.hstack([sp.identity(n_items, format="csr", dtype=np.float32), tags], format="csr")
    names = np.array([f"item_{i}" for i in range(n_items)] + [f"tag_{j}" for j in range(n_tags)],
                     dtype=object)
    return ItemFeatures(matrix, names), n_items


def _rows(matrix):
    return sorted(tuple(matrix.indices[matrix.indptr[i]:matrix.indptr[i + 1]])
                  for i in range(matrix.shape[0]))


def test_permuted_tags_preserves_counts_and_identity(random_features):
    features, n = random_features
    before = features.matrix.copy()
    out = permuted_tags(features, n, random_state=0)
    _check_csr(out.matrix)
    assert out.matrix.shape == features.matrix.shape
    assert out.feature_names.tolist() == features.feature_names.tolist()
    np.testing.assert_array_equal(out.matrix[:, :n].toarray(), np.eye(n, dtype=np.float32))
    old_tags, new_tags = features.matrix[:, n:].tocsr(), out.matrix[:, n:].tocsr()
    np.testing.assert_array_equal(np.asarray(new_tags.sum(axis=0)),
                                  np.asarray(old_tags.sum(axis=0)))
    assert sorted(new_tags.getnnz(axis=1)) == sorted(old_tags.getnnz(axis=1))
    assert _rows(new_tags) == _rows(old_tags)  # the same rows, dealt to other models
    assert (new_tags != old_tags).nnz > 0
    moved = np.array([(new_tags[i] != old_tags[i]).nnz > 0 for i in range(n)])
    assert moved.mean() > 0.5
    assert (features.matrix != before).nnz == 0


def test_permuted_tags_is_seeded(random_features):
    features, n = random_features
    one = permuted_tags(features, n, random_state=5).matrix
    again = permuted_tags(features, n, random_state=5).matrix
    other = permuted_tags(features, n, random_state=6).matrix
    assert (one != again).nnz == 0
    assert (one != other).nnz > 0
    # A Generator is used as given, and its stream moves on.
    rng = np.random.default_rng(5)
    assert (permuted_tags(features, n, random_state=rng).matrix != one).nnz == 0
    assert (permuted_tags(features, n, random_state=rng).matrix != one).nnz > 0


def test_permuted_tags_rows_follow_the_documented_permutation(base):
    out = permuted_tags(base, 4, random_state=3)
    perm = np.random.default_rng(3).permutation(4)
    want = base.matrix.toarray()
    want[:, 4:] = want[perm, 4:]
    np.testing.assert_array_equal(out.matrix.toarray(), want)


def test_permuted_tags_bad_input(base):
    with pytest.raises(ValueError, match="n_identity=8 is larger"):
        permuted_tags(base, 8, random_state=0)
    with pytest.raises(ValueError, match="random_state must be"):
        permuted_tags(base, 4, random_state="seed")
    with pytest.raises(TypeError, match="must be an ItemFeatures"):
        permuted_tags(base.matrix, 4, random_state=0)


# ---------------------------------------------------------------- tags_only


def test_tags_only_exact(base):
    out = tags_only(base, 4)
    _check_csr(out.matrix)
    assert out.feature_names.tolist() == ["category_cars", "tag_fast", "tag_red"]
    np.testing.assert_array_equal(out.matrix.toarray(), _dense([
        [1, 1, 1], [0, 0, 1], [0, 0, 0], [1, 0, 1]]))
    assert n_identity_columns(out) == 0
    whole = tags_only(base, 0)
    assert whole.feature_names.tolist() == base.feature_names.tolist()
    with pytest.raises(ValueError, match="n_identity=8 is larger"):
        tags_only(base, 8)


# ---------------------------------------------------------------- regularisation note


def test_separate_regularisation_note_matches_lightfm():
    import inspect

    params = inspect.signature(LightFM.__init__).parameters
    # One item_alpha for all item-feature embeddings, nothing per feature or per column.
    assert "item_alpha" in params
    assert not [p for p in params if "alpha" in p and p not in ("item_alpha", "user_alpha")]
    assert SEPARATE_TAG_REGULARISATION_NOTE.startswith("LightFM cannot regularise tags separately")
    # One sentence.
    note = SEPARATE_TAG_REGULARISATION_NOTE
    assert note.endswith(".") and ". " not in note
