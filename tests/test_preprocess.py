import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction import DictVectorizer

from recasketch.tools.bench import straightforward_threshold
from recasketch.data import DataError
from recasketch.preprocess import (build_interactions, build_item_features, interaction_stats,
                                   threshold_interactions)


likes_frames = st.lists(
    st.tuples(st.integers(0, 14), st.integers(0, 11)), min_size=1, max_size=120
).map(lambda pairs: pd.DataFrame({"uid": [f"u{u}" for u, _ in pairs], "mid": [f"m{m}" for _, m in pairs]}))


@settings(max_examples=150, deadline=None)
@given(likes_frames, st.integers(1, 4), st.integers(1, 4))
def test_threshold_equals_post_loop_and_is_fixed_point(df, user_min, item_min):
    expected = straightforward_threshold(df, user_min, item_min)  # the post's loop
    if len(expected) == 0:
        with pytest.raises(DataError, match="No likes survive"):
            threshold_interactions(df, user_min=user_min, item_min=item_min, verbose=False)
        return
    out = threshold_interactions(df, user_min=user_min, item_min=item_min, verbose=False)
    pd.testing.assert_frame_equal(out, expected)
    # A second pass changes nothing: the k-core is a fixed point.
    again = threshold_interactions(out, user_min=user_min, item_min=item_min, verbose=False)
    pd.testing.assert_frame_equal(again, out)
    assert out.groupby("uid").size().min() >= user_min
    assert out.groupby("mid").size().min() >= item_min


def test_threshold_reports_before_and_after(capsys):
    df = pd.DataFrame({"uid": list("aabbccd"), "mid": list("xyxyxzz")})
    out = threshold_interactions(df, user_min=2, item_min=2)
    printed = capsys.readouterr().out
    assert "Before thresholding: 4 users, 3 items, 7 likes" in printed
    assert "After 2/2 thresholding: 2 users, 2 items, 4 likes, sparsity 100.000 %" in printed
    assert list(out.index) == [0, 1, 2, 3]


def test_threshold_custom_columns_and_guards():
    df = pd.DataFrame({"user": ["a", "a"], "item": ["x", "y"]})
    with pytest.raises(DataError, match=r"no column\(s\) \['uid', 'mid'\]"):
        threshold_interactions(df)
    out = threshold_interactions(df, user_col="user", item_col="item", user_min=2, item_min=1, verbose=False)
    assert len(out) == 2
    with pytest.raises(ValueError, match="user_min must be an integer >= 1"):
        threshold_interactions(df, "user", "item", user_min=0)
    with pytest.raises(DataError, match="No likes survive thresholding at user_min=3"):
        threshold_interactions(df, "user", "item", user_min=3, verbose=False)
    with pytest.raises(DataError, match="missing ids"):
        threshold_interactions(pd.DataFrame({"uid": ["a", None], "mid": ["x", "y"]}))


def test_interaction_stats():
    df = pd.DataFrame({"uid": list("aab"), "mid": list("xyx")})
    assert interaction_stats(df) == {"users": 2, "items": 2, "likes": 3, "sparsity": 75.0}


def test_build_interactions_maps_and_binary_values():
    df = pd.DataFrame({"uid": ["u2", "u1", "u2", "u2"], "mid": ["m1", "m2", "m2", "m1"]})
    inter = build_interactions(df)
    matrix, user_ids, item_ids = inter
    assert list(user_ids) == ["u2", "u1"] and list(item_ids) == ["m1", "m2"]
    assert matrix.dtype == np.float32 and matrix.format == "csr"
    np.testing.assert_array_equal(matrix.toarray(), [[1, 1], [0, 1]])
    assert inter.item_to_idx == {"m1": 0, "m2": 1}
    assert dict(enumerate(inter.user_ids)) == {0: "u2", 1: "u1"}
    np.testing.assert_array_equal(inter.item_index(["m2", "m1"]), [1, 0])
    assert inter.user_index("u1") == 1
    with pytest.raises(KeyError, match="Unknown item id"):
        inter.item_index(["nope"])
    with pytest.raises(DataError, match="empty"):
        build_interactions(df.iloc[:0])


def test_build_interactions_matches_rows():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"uid": rng.integers(0, 30, 300).astype(str), "mid": rng.integers(0, 40, 300).astype(str)})
    inter = build_interactions(df)
    rows = inter.user_index(df["uid"].to_numpy())
    cols = inter.item_index(df["mid"].to_numpy())
    dense = inter.matrix.toarray()
    assert (dense[rows, cols] == 1).all()
    assert inter.matrix.nnz == len(df.drop_duplicates())


def test_build_item_features_equals_dictvectorizer():
    feats = pd.DataFrame(
        {
            "mid": ["m1", "m1", "m2", "m3", "m1", "m9", "m2"],
            "type": ["tag", "category", "tag", "tag", "tag", "tag", "category"],
            "value": ["TiltBrush", "Characters", "tiltbrush", "car", "tiltbrush", "only_m9", "Cultural Heritage"],
        }
    )
    item_ids = np.array(["m2", "m1", "m3", "m4"], dtype=object)
    dicts = [{} for _ in item_ids]
    lookup = {m: i for i, m in enumerate(item_ids)}
    for row in feats.itertuples():
        if row.mid in lookup:
            dicts[lookup[row.mid]][f"{row.type}_{str(row.value).lower()}"] = 1
    dv = DictVectorizer()
    expected = dv.fit_transform(dicts)
    out = build_item_features(feats, item_ids)
    assert list(out.feature_names) == list(dv.get_feature_names_out())
    np.testing.assert_array_equal(out.matrix.toarray(), expected.toarray())
    assert "tag_only_m9" not in set(out.feature_names)
    assert out.feature_index("tag_tiltbrush") == list(out.feature_names).index("tag_tiltbrush")

    with_eye = build_item_features(feats, item_ids, identity=True)
    assert with_eye.shape == (4, 4 + len(dv.get_feature_names_out()))
    np.testing.assert_array_equal(with_eye.matrix[:, :4].toarray(), np.eye(4))
    assert with_eye.feature_names[0] == "item_m2"
    assert with_eye.matrix.dtype == np.float32
    with pytest.raises(KeyError, match="No feature named"):
        out.feature_index("tag_absent")
    with pytest.raises(DataError, match="features frame has no column"):
        build_item_features(feats.drop(columns="type"), item_ids)


def test_drop_repeated_features_counts_case_variants_and_exact_repeats():
    from recasketch.preprocess import build_item_features, drop_repeated_features

    frame = pd.DataFrame({
        "mid": ["a", "a", "a", "a", "b", "b"],
        "type": ["tag", "tag", "tag", "category", "tag", "tag"],
        "value": ["Blender", "blender", "vr", "Characters", "vr", "vr"],
    })
    kept = drop_repeated_features(frame)
    assert kept.to_dict("list") == {"mid": ["a", "a", "a", "b"], "type": ["tag", "tag", "category", "tag"],
                                    "value": ["Blender", "vr", "Characters", "vr"]}
    # the matrix is the same with or without the repeats
    for f in (frame, kept):
        m = build_item_features(f, ["a", "b"]).matrix
        assert m.nnz == 4 and m.max() == 1
    with pytest.raises(DataError, match="value"):
        drop_repeated_features(frame.drop(columns="value"))
