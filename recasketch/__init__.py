"""recasketch: implicit-feedback recommenders on Sketchfab likes.

The core holds the steps both posts take, and its names are importable from here:

``data``        read likes and item features (the crawl's psv files or your own CSV), load a dataset
``preprocess``  the 5/5 core, the CSR likes matrix and its id maps, item features
``split``       per-user holdouts: train/test, train/validation/test, cold start
``metrics``     precision@k, recall@k, nDCG@k, MAP@k, AUC and MSE for ALS and LightFM, bootstrap CIs
``errors``, ``config``, ``utils``: the exceptions, the paths, small helpers

Then one subpackage per role, each importing only the core and the subpackages above it here:

``datasets``  the real crawl's pinned download; the synthetic stand-in with known ground truth
``models``    popularity, random, item-kNN and tags-only baselines; item similarity; WRMF on Spark
``parallel``  where grids and searches run (process pool, Dask); a results cache keyed by data
``tuning``    learning curves, grid search, resumable and batched searches, search strategies
``study``     budgets, the posts' figures, evaluation with intervals, tag ideas, calibration, scaling
``display``   plots and thumbnail grids
``tools``     ``make results`` (execute), ``make html`` (site), ``make bench``
"""

from .data import load_dataset, read_features, read_likes
from .errors import DataError
from .metrics import auc, map_at_k, mse, ndcg_at_k, precision_at_k, recall_at_k
from .preprocess import build_interactions, build_item_features, threshold_interactions
from .split import train_test_split, train_validation_test_split

__version__ = "0.1.0"
__all__ = ["DataError", "auc", "build_interactions", "build_item_features", "load_dataset", "map_at_k", "mse",
           "ndcg_at_k", "precision_at_k", "read_features", "read_likes", "recall_at_k", "threshold_interactions",
           "train_test_split", "train_validation_test_split"]
