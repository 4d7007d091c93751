"""Tests of the synthetic Sketchfab-like generator and the committed sample."""

import csv
import re

import numpy as np
import pandas as pd
import pytest

from recasketch import config
from recasketch.datasets import synthetic
from recasketch.data import read_ground_truth
from recasketch.preprocess import feature_keys
from recasketch.datasets.synthetic import (CATEGORIES, PRESETS, REFERENCE_STATS, SyntheticData, dataset_stats,
                                           make_sketchfab_like, write_dataset)

HEX32 = re.compile(r"^[0-9a-f]{32}$")
COMMITTED = config.PROJ_ROOT / "data" / "sample"

# The seeded sample's statistics; they change only when the generator or the
# "sample" preset does, and then data/sample must be regenerated
# (python -m recasketch.datasets.synthetic --preset sample --out data/sample).
SAMPLE_STATS = {
    "raw_users": 2_800,
    "raw_models": 1_297,
    "raw_likes": 19_835,
    "duplicates": 12,
    "users": 1_102,
    "models": 1_040,
    "likes": 15_618,
    "feature_models": 1_040,
    "feature_keys": 1_652,
    "feature_nnz": 6_764,
}


@pytest.fixture(scope="module")
def sample():
    return make_sketchfab_like("sample", random_state=0)


@pytest.fixture(scope="module")
def full():
    return make_sketchfab_like("full", random_state=0)


def _frames(data: SyntheticData):
    return [data.likes, data.features, data.model_topics, data.user_topics]


def _read_psv(path):
    # The crawl's dialect, read as the posts read it.
    return pd.read_csv(path, sep="|", quoting=csv.QUOTE_MINIMAL, quotechar="\\",
                       keep_default_na=False, dtype=str)


def test_same_seed_same_frames(sample):
    again = make_sketchfab_like("sample", random_state=0)
    for a, b in zip(_frames(sample), _frames(again)):
        pd.testing.assert_frame_equal(a, b)
    assert again.topics == sample.topics and again.preset == "sample"


def test_generator_seed_is_used(sample):
    again = make_sketchfab_like("sample", random_state=np.random.default_rng(0))
    pd.testing.assert_frame_equal(again.likes, sample.likes)


def test_different_seed_different_frames(sample):
    other = make_sketchfab_like("sample", random_state=1)
    for a, b in zip(_frames(sample), _frames(other)):
        assert not a.equals(b)
    assert not set(other.likes["uid"]) & set(sample.likes["uid"])


def test_global_numpy_state_untouched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    make_sketchfab_like("sample", random_state=0)
    assert np.array_equal(np.random.get_state()[1], before)


def test_unknown_preset_raises():
    message = r"Unknown preset 'huge'; choose one of \['full', 'sample'\]"
    with pytest.raises(ValueError, match=message):
        make_sketchfab_like("huge")


def test_schema_and_dtypes(sample):
    assert list(sample.likes.columns) == ["modelname", "mid", "uid"]
    assert list(sample.features.columns) == ["mid", "type", "value"]
    assert list(sample.model_topics.columns) == ["mid", "topic"]
    assert list(sample.user_topics.columns) == ["uid", "topic", "weight"]
    for frame in _frames(sample):
        for column in frame.columns:
            if column == "weight":
                assert pd.api.types.is_float_dtype(frame[column])
            else:
                assert pd.api.types.is_string_dtype(frame[column]), column
            assert not frame[column].isna().any()
    assert set(sample.features["type"]) == {"category", "tag"}
    categories = sample.features.loc[sample.features["type"] == "category", "value"]
    assert set(categories) <= set(CATEGORIES)
    assert len(sample.topics) >= 24 and "tiltbrush" in sample.topics


def test_ids_are_32_hex(sample):
    for ids in (sample.likes["mid"], sample.likes["uid"], sample.features["mid"]):
        assert ids.str.fullmatch(HEX32.pattern).all()
    assert not set(sample.likes["mid"]) & set(sample.likes["uid"])


def test_duplicates_present_and_counted(sample):
    n = PRESETS["sample"].n_duplicates
    assert n > 0
    assert int(sample.likes.duplicated().sum()) == n
    assert dataset_stats(sample)["duplicates"] == n
    deduped = sample.likes.drop_duplicates()
    assert not deduped.duplicated(["mid", "uid"]).any()


def test_one_name_per_model_and_odd_names(sample):
    assert (sample.likes.groupby("mid")["modelname"].nunique() == 1).all()
    names = set(sample.likes["modelname"])
    assert "NA" in names
    assert any("|" in n for n in names)
    assert any('"' in n for n in names)
    assert any("\\" in n for n in names)


def test_ground_truth_covers_ids(sample):
    assert set(sample.model_topics["mid"]) == set(sample.likes["mid"])
    assert sample.model_topics["mid"].is_unique
    assert set(sample.user_topics["uid"]) == set(sample.likes["uid"])
    assert set(sample.model_topics["topic"]) <= set(sample.topics)
    assert set(sample.user_topics["topic"]) <= set(sample.topics)
    assert not sample.user_topics.duplicated(["uid", "topic"]).any()
    sums = sample.user_topics.groupby("uid")["weight"].sum()
    assert np.allclose(sums, 1.0, atol=0.005)
    assert (sample.user_topics["weight"] > 0).all()
    assert sample.user_topics["uid"].value_counts().max() > 1


def test_features_only_for_liked_models(sample):
    assert set(sample.features["mid"]) <= set(sample.likes["mid"])
    assert not sample.features.duplicated().any()


def test_tiltbrush_models_carry_the_tag(sample):
    tilt = set(sample.model_topics.loc[sample.model_topics["topic"] == "tiltbrush", "mid"])
    assert tilt
    tagged = set(sample.features.loc[sample.features["value"] == "tiltbrush", "mid"])
    assert tilt == tagged
    related = sample.features[sample.features["mid"].isin(tilt)]["value"]
    assert related.isin(["vr", "painting"]).any()


def test_likes_follow_user_topics(sample):
    # Most likes fall in one of the liker's topics (chance would be a few percent).
    topic_of = sample.model_topics.set_index("mid")["topic"]
    likes = sample.likes.drop_duplicates()
    pairs = set(zip(sample.user_topics["uid"], sample.user_topics["topic"]))
    in_topic = [(u, t) in pairs for u, t in zip(likes["uid"], topic_of.loc[likes["mid"]])]
    assert np.mean(in_topic) > 0.6


def test_ground_truth_round_trip(sample, tmp_path):
    write_dataset(sample, tmp_path)
    model_topics, user_topics = read_ground_truth(tmp_path / config.TRUTH_FILE)
    pd.testing.assert_frame_equal(model_topics, sample.model_topics)
    pd.testing.assert_frame_equal(user_topics, sample.user_topics)
    from_dir = read_ground_truth(tmp_path)
    pd.testing.assert_frame_equal(from_dir[0], model_topics)


def test_written_files_read_back(sample, tmp_path):
    paths = write_dataset(sample, tmp_path)
    assert paths["likes"].name == config.LIKES_FILE
    assert paths["features"].name == config.FEATURES_FILE
    assert paths["likes"].read_text().splitlines()[0] == "modelname|mid|uid"
    assert paths["features"].read_text().splitlines()[0] == "mid|type|value"
    assert paths["truth"].read_text().splitlines()[0] == "kind|id|topic|weight"
    pd.testing.assert_frame_equal(_read_psv(paths["likes"]), sample.likes, check_dtype=False)
    pd.testing.assert_frame_equal(_read_psv(paths["features"]), sample.features, check_dtype=False)


def test_package_readers_read_written_files(sample, tmp_path):
    from recasketch import data as data_module

    paths = write_dataset(sample, tmp_path)
    likes = data_module.read_likes(paths["likes"])
    features = data_module.read_features(paths["features"])
    # the reader returns the ids as categoricals; their values are the generator's
    pd.testing.assert_frame_equal(likes.astype(str), sample.likes.astype(str), check_dtype=False)
    pd.testing.assert_frame_equal(features.astype(str), sample.features.astype(str), check_dtype=False)


def test_committed_sample_matches_generator(sample, tmp_path):
    write_dataset(sample, tmp_path)
    for name in (config.LIKES_FILE, config.FEATURES_FILE, config.TRUTH_FILE):
        committed = COMMITTED / name
        assert committed.exists(), f"{committed} is missing; run `make sample`."
        assert committed.read_bytes() == (tmp_path / name).read_bytes(), (
            f"{committed} differs from make_sketchfab_like('sample', 0); run `make sample`."
        )
    size = sum((COMMITTED / n).stat().st_size
               for n in (config.LIKES_FILE, config.FEATURES_FILE, config.TRUTH_FILE))
    assert size <= 3_000_000


def test_sample_stats(sample):
    stats = dataset_stats(sample)
    for key, value in SAMPLE_STATS.items():
        assert stats[key] == value, key
    assert stats["raw_sparsity"] == pytest.approx(100 * 19_835 / (2_800 * 1_297))


def test_dataset_stats_from_frames(sample):
    from_data = dataset_stats(sample)
    assert dataset_stats(sample.likes, sample.features) == from_data
    without = dataset_stats(sample.likes)
    assert "feature_keys" not in without
    assert without["likes"] == from_data["likes"]
    with pytest.raises(TypeError, match="SyntheticData or a likes DataFrame"):
        dataset_stats([1, 2])


def test_format_stats_against_reference():
    stats = dict(REFERENCE_STATS, raw_likes=600_000, users=15_274 * 1.1)
    text = synthetic.format_stats(stats, REFERENCE_STATS)
    assert "+10.0 %" in text and "within 5 %: NO" in text
    assert "within 5 %: yes" in synthetic.format_stats(
        {k: v for k, v in REFERENCE_STATS.items() if v is not None}, REFERENCE_STATS)


@pytest.mark.slow
def test_full_preset_matches_reference(full):
    stats = dataset_stats(full)
    for key, ref in REFERENCE_STATS.items():
        if ref is None:
            continue
        assert stats[key] == pytest.approx(ref, rel=0.05), key
    assert stats["feature_models"] == stats["models"]


@pytest.mark.slow
def test_full_preset_tiltbrush_and_keys(full):
    tilt = full.model_topics.loc[full.model_topics["topic"] == "tiltbrush", "mid"]
    keys = feature_keys(full.features)
    tagged = set(full.features.loc[keys == "tag_tiltbrush", "mid"])
    assert set(tilt) <= tagged
    assert full.likes["uid"].str.fullmatch(HEX32.pattern).all()


def test_cli_writes_and_prints(tmp_path, capsys, sample):
    assert synthetic.main(["--preset", "sample", "--out", str(tmp_path), "--stats"]) == 0
    out = capsys.readouterr().out
    assert "5/5 users" in out and "1,102" in out
    assert (tmp_path / config.LIKES_FILE).read_bytes() == (
        COMMITTED / config.LIKES_FILE).read_bytes()


def test_cli_stats_alone_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(config, "SAMPLE_DIR", tmp_path / "sample")
    monkeypatch.setattr(config, "SYNTHETIC_FULL_DIR", tmp_path / "full")
    assert synthetic.main(["--preset", "sample", "--stats"]) == 0
    assert "raw users" in capsys.readouterr().out
    assert not (tmp_path / "sample").exists()
    synthetic.main(["--preset", "sample", "--seed", "3"])
    assert (tmp_path / "sample" / config.LIKES_FILE).exists()


def test_cli_rejects_unknown_preset(capsys):
    with pytest.raises(SystemExit):
        synthetic.main(["--preset", "huge"])
    assert "invalid choice" in capsys.readouterr().err


def _als_split(data, seed=0):
    from recasketch.preprocess import build_interactions, threshold_interactions
    from recasketch.split import train_test_split

    core = threshold_interactions(data.likes.drop_duplicates(), verbose=False)
    return train_test_split(build_interactions(core).matrix, 5, 0.2, random_state=seed)


@pytest.mark.slow
def test_full_preset_is_about_as_hard_as_the_real_crawl(full):
    """The post's best ALS setting scores a test p@5 (post protocol) of the post's order (0.0476)."""
    from implicit.cpu.als import AlternatingLeastSquares

    from recasketch.metrics import precision_at_k

    train, test, users = _als_split(full)
    model = AlternatingLeastSquares(factors=40, regularization=0.1, alpha=50, iterations=22, random_state=0)
    model.fit(train, show_progress=False)
    test_p5 = precision_at_k(model, test, k=5, users=users)
    train_p5 = precision_at_k(model, train, k=5, users=users)
    assert 0.02 <= test_p5 <= 0.10
    assert train_p5 > 3 * test_p5


def test_on_the_sample_als_beats_popularity_clearly(sample):
    from implicit.cpu.als import AlternatingLeastSquares

    from recasketch.models.baselines import Popularity
    from recasketch.metrics import precision_at_k

    train, test, users = _als_split(sample)
    als = AlternatingLeastSquares(factors=20, regularization=0.1, alpha=20, iterations=15, random_state=0)
    als.fit(train, show_progress=False)
    popularity = Popularity().fit(train)
    als_p5 = precision_at_k(als, test, k=5, users=users, exclude=train)
    pop_p5 = precision_at_k(popularity, test, k=5, users=users, exclude=train)
    assert als_p5 > 2 * pop_p5
