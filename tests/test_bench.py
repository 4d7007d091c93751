"""The benchmark compares like with like: its straightforward methods compute what ours do."""

import pandas as pd
import pytest
from implicit.cpu.als import AlternatingLeastSquares

from recasketch.tools import bench
from recasketch import metrics
from recasketch.data import read_likes
from recasketch.preprocess import build_interactions, threshold_interactions
from recasketch.split import train_test_split


@pytest.fixture(scope="module")
def sample_likes():
    return read_likes("data/sample/model_likes_anon.psv", drop_duplicates=True)


def test_straightforward_preprocessing_matches(sample_likes):
    theirs = bench.straightforward_read("data/sample/model_likes_anon.psv").drop_duplicates()
    ids = ["mid", "uid"]
    pd.testing.assert_frame_equal(theirs[ids].reset_index(drop=True), sample_likes[ids].astype(str),
                                  check_dtype=False)
    # the one difference: a plain read turns the model named "NA" into a missing value
    assert theirs["modelname"].isna().any() and (sample_likes["modelname"] == "NA").any()
    core = threshold_interactions(sample_likes, verbose=False)
    their_core = bench.straightforward_threshold(theirs)
    assert len(core) == len(their_core)
    ours = build_interactions(core).matrix
    their_matrix = bench.straightforward_matrix(their_core)
    assert ours.shape == their_matrix.shape and abs(ours - their_matrix).sum() == 0
    train, test, users = bench.straightforward_split(their_matrix, 5, 0.2, seed=0)
    assert train.multiply(test).nnz == 0 and test.nnz == 5 * len(users)


def test_dense_checkpoint_equals_ours(sample_likes):
    inter = build_interactions(threshold_interactions(sample_likes, verbose=False))
    train, test, users = train_test_split(inter.matrix, 5, 0.2, random_state=0)
    model = AlternatingLeastSquares(factors=8, iterations=3, random_state=0, num_threads=1)
    model.fit(train, show_progress=False)
    dense = bench.dense_checkpoint(model, train, test, users)
    ours = metrics.checkpoint_scores(model, train, test, users=users, k=5)
    for key, value in ours.items():
        assert value == pytest.approx(dense[key], rel=1e-4, abs=1e-9), key


def test_table_layout():
    text = bench._table([("a", "1.0")], ["step", "seconds"])
    assert text.splitlines()[1] == "| step | seconds |"
    assert text.splitlines()[3] == "| a    |     1.0 |"
