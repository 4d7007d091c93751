"""Figures published in the two source posts, for comparison beside our own.

Both posts ran on the real Sketchfab crawl of October 2016:

* post 1 — "Intro to Implicit Matrix Factorization: Classic ALS with Sketchfab Models"
  (2016-10-19), WRMF trained with ALS;
* post 2 — "Learning to Rank Sketchfab Models with LightFM" (2016-11-07), WARP with and
  without item side information.

Nothing here is measured by this package: these are the numbers the posts report.
"""

from __future__ import annotations

POST1 = "post 1 (ALS), real Sketchfab crawl"
POST2 = "post 2 (LightFM), real Sketchfab crawl"

#: Likes before and after iterative 5/5 thresholding, and the item-feature matrix.
DATA_STATS = {
    "raw": {"users": 62_583, "items": 28_806, "duplicates": 155, "sparsity": 0.035},
    "thresholded": {"users": 15_274, "items": 25_655, "likes": 547_477, "sparsity": 0.140},
    "item_features": {"shape": (25_655, 20_352), "nnz": 161_510},
}

#: Post 1's grid, searched with learning curves at epochs 2, 4, ..., 38.
ALS_GRID = {
    "factors": [10, 20, 40, 80, 120],
    "regularization": [0.0, 1e-5, 1e-3, 1e-1, 1e1, 1e2],
    "alpha": [1, 10, 50, 100, 500, 1000],
}
ALS_EPOCHS = list(range(2, 39, 2))

#: Post 1's best combination and its scores at the best epoch (p@5, post protocol).
ALS_BEST = {
    "params": {"alpha": 50, "factors": 40, "regularization": 0.1},
    "epoch": 22,
    "test_p@5": 0.04761,
    "train_p@5": 0.28409,
    "train_mse": 0.01288,
    "test_mse": 0.01376,
}

#: Post 1 reports the grid "took like 2 days" on a 4-core i5.
ALS_GRID_TIME = "about 2 days on a 4-core i5"

#: Post 2, default LightFM(loss="warp", random_state=2016): test p@5 by epoch.
WARP_DEFAULT_TEST_P5 = {10: 0.02541, 90: 0.03392, 100: 0.03301}
WARP_DEFAULT_TRAIN_P5 = {10: 0.143, 100: 0.177}

#: Post 2's scikit-optimize searches (forest_minimize).
WARP_SEARCH = {
    "calls": 250,
    "space": {
        "epochs": (1, 260),
        "learning_rate": (1e-4, 1.0, "log-uniform"),
        "no_components": (20, 200),
        "alpha": (1e-6, 1e-1, "log-uniform"),
    },
    "best": {"epochs": 168, "learning_rate": 0.0913, "no_components": 104, "alpha": 0.000235},
    "best_test_p@5": 0.04781,
}
WARP_SIDE_INFO_SEARCH = {
    "calls": 50,
    "space": {
        "epochs": (1, 260),
        "learning_rate": (1e-3, 1.0, "log-uniform"),
        "no_components": (20, 200),
        "item_alpha": (1e-5, 1e-3, "log-uniform"),
        "scaling": (0.001, 1.0, "log-uniform"),
    },
    "best": {"epochs": 192, "learning_rate": 0.0668, "no_components": 86, "item_alpha": 0.000556,
             "scaling": 0.696},
    "best_test_p@5": 0.04610,
}
