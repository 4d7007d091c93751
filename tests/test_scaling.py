"""Growth measurements: presets scaled, costs measured, growth fitted and projected."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recasketch.study import budgets, scaling
from recasketch.datasets.synthetic import PRESETS


def test_scaled_preset_multiplies_users_and_models_only():
    base = PRESETS["sample"]
    p = scaling.scaled_preset(4, "sample")
    assert (p.n_users, p.n_models, p.n_duplicates) == (4 * base.n_users, 4 * base.n_models, 4 * base.n_duplicates)
    assert p.activity_median == base.activity_median and p.topic_share == base.topic_share
    assert PRESETS["sample"] == base  # the registry is left alone
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        scaling.scaled_preset(2, "huge")
    with pytest.raises(ValueError, match="scale must be > 0"):
        scaling.scaled_preset(0, "sample")


def test_scaled_likes_grow_with_the_scale():
    small = scaling.scaled_likes(0.25, "sample", random_state=0)
    large = scaling.scaled_likes(1.0, "sample", random_state=0)
    assert sp.isspmatrix_csr(small) and small.nnz > 0
    # 4x the users and models: the likes grow at least as much (more at tiny sizes, where the
    # 5/5 core cuts a larger share); generated, so not exactly
    assert 3.5 < large.nnz / small.nnz < 8
    assert 3 < large.shape[0] / small.shape[0] < 6
    assert (np.diff(large.indptr) >= 5).all() and (np.bincount(large.indices) >= 5).all()  # the 5/5 core


def test_implicit_fit_cost_counts_the_matrix_and_the_factors():
    matrix = sp.random(300, 200, density=0.05, format="csr", random_state=0, dtype=np.float32)
    matrix.data[:] = 1
    cost = scaling.implicit_fit_cost(matrix, iterations=(1, 3), factors=16, num_threads=1)
    assert cost.seconds_per_iteration >= 0
    factors_bytes = (300 + 200) * 16 * 4
    matrix_bytes = matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    assert cost.peak_bytes >= matrix_bytes + factors_bytes
    with pytest.raises(ValueError, match="two counts 1 <= a < b"):
        scaling.implicit_fit_cost(matrix, iterations=(3, 3))


def test_growth_table_and_fit_recover_a_known_cost():
    def fake(matrix):  # 2e-7 s and 120 bytes per like, plus 1 MB
        return scaling.FitCost(2e-7 * matrix.nnz, 120 * matrix.nnz + 2**20)

    table = scaling.growth_table({"fake": fake}, scales=(1, 2, 4), base="sample", fraction=0.1)
    assert list(table.columns) == ["scale", "users", "items", "likes", "engine", "seconds per iteration",
                                   "peak MB", "retained MB", "bytes per like"]
    assert table["retained MB"].isna().all()
    assert scaling.fit_growth(table, memory_bytes=2**30, memory="retained MB").empty
    assert table["likes"].is_monotonic_increasing and len(table) == 3
    fitted = scaling.fit_growth(table, memory_bytes=2**30)
    row = fitted.loc["fake"]
    assert row["time exponent"] == pytest.approx(1.0, abs=1e-9)
    assert row["bytes per like"] == pytest.approx(120, rel=1e-9)
    assert row["fixed MB"] == pytest.approx(1.0, rel=1e-6)
    assert row["likes at memory limit"] == pytest.approx((2**30 - 2**20) / 120, rel=1e-9)
    assert row["seconds per iteration there"] == pytest.approx(2e-7 * row["likes at memory limit"], rel=1e-6)


def test_fit_growth_needs_two_sizes():
    one = pd.DataFrame({"engine": ["a"], "likes": [10], "seconds per iteration": [1.0], "peak MB": [1.0]})
    with pytest.raises(ValueError, match="two or more sizes"):
        scaling.fit_growth(one, memory_bytes=2**30)


def test_plans():
    assert budgets.scale_out("ci").growth_base == "sample" and budgets.scale_out("full").growth_base == "full"
    with pytest.raises(ValueError, match="Unknown budget"):
        budgets.scale_out("huge")
