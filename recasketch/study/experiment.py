"""The notebooks' recurring steps behind one call each, kept where a rerun finds them.

:func:`prepare` loads a dataset and takes it to the split the notebooks score on. The steps
that take minutes at full size — :func:`fit_warp`, :func:`choose_baselines` and
:func:`tag_idea_curves` — take a ``cache_dir`` (``None`` keeps nothing) and keep what they
compute there under a key of what made it (:mod:`recasketch.parallel.cache`), so a stopped
run reads it back and a changed one computes it again.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from lightfm import LightFM

from ..data import Dataset, load_dataset
from ..models.baselines import ItemKNN, TagsOnly
from ..parallel import cache
from ..preprocess import Interactions, build_interactions, threshold_interactions
from ..split import largest_split_count, train_test_split, train_validation_test_split
from ..tuning.objectives import post_lightfm_params
from . import published
from .evaluation import PROTOCOLS, Fitted, epochs_on_validation, fit_timed, select_on_validation, small_grid

__all__ = ["BASELINE_PROTOCOLS", "WARP_DIMENSIONS", "Chosen", "Prepared", "choose_baselines", "fit_als", "fit_warp", "fit_warps",
           "in_folder", "prepare", "split_likes", "tag_idea_curves", "warp_model"]


class Prepared(NamedTuple):
    """A dataset and the split the notebooks score on.

    ``core`` holds the likes left by the 5/5 core (duplicates dropped), ``interactions`` its
    matrix and id maps, and ``train``, ``test`` (and ``validation``, or ``None``) the split
    of it for the split's ``users``.
    """

    dataset: Dataset
    core: pd.DataFrame
    interactions: Interactions
    train: sp.csr_matrix
    test: sp.csr_matrix
    users: np.ndarray
    validation: sp.csr_matrix | None = None


def prepare(data, random_state=None, validation: bool = False, verbose: bool = True) -> Prepared:
    """Load ``data``, print its description, and :func:`split_likes` its likes as notebooks 02-05 do."""
    dataset = load_dataset(data)
    print(dataset.description)
    return Prepared(dataset, *split_likes(dataset.likes, random_state, validation, verbose))


def split_likes(likes: pd.DataFrame, random_state=None, validation: bool = False, verbose: bool = True) -> tuple:
    """The 5/5 core of ``likes`` (duplicates dropped) and its split: :class:`Prepared` less the dataset.

    The split holds out 5 likes of a fifth of the users (the posts'); with ``validation``, 5
    more of the same users for validation, fewer only where too few users have 15 likes (it
    says so). ``verbose`` prints the core's before/after counts.
    """
    likes = likes.drop_duplicates().reset_index(drop=True)
    core = threshold_interactions(likes, user_min=5, item_min=5, verbose=verbose)
    interactions = build_interactions(core)
    if not validation:
        train, test, users = train_test_split(interactions.matrix, split_count=5, fraction=0.2,
                                              random_state=random_state)
        return core, interactions, train, test, users, None
    split_count = largest_split_count(interactions.matrix, 5, fraction=0.2, parts=3)
    if split_count < 5:
        print(f"Too few users with 15 likes: each split user gives {split_count} likes to test and to validation.")
    train, held_out, test, users = train_validation_test_split(interactions.matrix, split_count=split_count,
                                                               fraction=0.2, random_state=random_state)
    return core, interactions, train, test, users, held_out


def in_folder(folder, name: str) -> Path | None:
    """``folder / name``, or ``None`` where there is no folder (a run that keeps nothing)."""
    return None if folder is None else Path(folder) / name


def fit_als(likes, point: Mapping, random_state=None) -> Fitted:
    """ALS at a grid point (``factors``, ``regularization``, ``alpha`` and the ``epoch``), one thread."""
    params = {"factors": int(point["factors"]), "regularization": float(point["regularization"]),
              "alpha": float(point["alpha"])}
    return fit_timed(lambda: AlternatingLeastSquares(**params, iterations=int(point["epoch"]),
                                                     random_state=random_state, num_threads=1),
                     lambda m: m.fit(likes, show_progress=False))


def warp_model(point: Mapping, random_state=None) -> LightFM:
    """The unfitted WARP model at a point of post 2's spaces (its ``epochs``, if any, left out)."""
    return LightFM(loss="warp", random_state=random_state, **post_lightfm_params(point))


#: The dimensions of post 2's two search spaces.
WARP_DIMENSIONS = tuple(dict.fromkeys([*published.WARP_SEARCH["space"], *published.WARP_SIDE_INFO_SEARCH["space"]]))


def _warp_job(likes, point: Mapping, item_features, random_state, num_threads, cache_dir) -> tuple:
    """:func:`fit_warp`'s point (post 2's dimensions only), cache file and key."""
    point = {name: point[name] for name in WARP_DIMENSIONS if name in point}
    point.update(epochs=int(point["epochs"]), no_components=int(point["no_components"]))
    key = {"point": point, "seed": random_state, "threads": num_threads,
           "data": cache.fingerprint(likes, item_features)}
    return point, cache.path_for(cache_dir, "warp", key), key


def _train_warp(likes, point: Mapping, item_features=None, random_state=None, num_threads: int = 1) -> Fitted:
    return fit_timed(lambda: warp_model(point, random_state),
                     lambda m: m.fit(likes.tocoo(), epochs=point["epochs"], item_features=item_features,
                                     num_threads=num_threads),
                     item_features)


def fit_warp(likes, point: Mapping, item_features=None, random_state=None, num_threads: int = 1,
             cache_dir=None) -> Fitted:
    """WARP trained on ``likes`` at a point of post 2's spaces, kept in ``cache_dir``.

    ``point`` may be a row of a search's calls: its entries other than :data:`WARP_DIMENSIONS`
    (scores, seconds) are left out.
    """
    point, path, key = _warp_job(likes, point, item_features, random_state, num_threads, cache_dir)
    return cache.cached(path, key, lambda: _train_warp(likes, point, item_features, random_state, num_threads))


def fit_warps(jobs: Mapping[str, tuple], random_state=None, num_threads: int = 1, cache_dir=None) -> dict[str, Fitted]:
    """:func:`fit_warp` for several models at once, side by side on the Dask cluster.

    ``jobs`` maps a name to ``(likes, point)`` or ``(likes, point, item_features)``. Each model
    is the one :func:`fit_warp` gives, kept in the same file, so either reads the other's.
    """
    tasks = {}
    for name, job in jobs.items():
        likes, point, item_features = (*job, None)[:3]
        point, path, key = _warp_job(likes, point, item_features, random_state, num_threads, cache_dir)
        tasks[name] = (path, key, {"likes": likes, "point": point, "item_features": item_features})
    return cache.cached_map(_train_warp, tasks, shared={"random_state": random_state, "num_threads": num_threads})


class KeepWarp:
    """Keeps the model of each learning-curve call where :func:`fit_warp` looks for it.

    Given as :class:`~recasketch.tuning.objectives.CurveObjective`'s ``on_best``, it stores
    each call's model at its best checkpoint in ``cache_dir`` under :func:`fit_warp`'s key for
    that point and those epochs: a later :func:`fit_warp` or :func:`fit_warps` of a call of
    the search, on the same ``likes``, ``item_features``, seed and threads, reads it instead
    of training it again. It runs where the call ran, so ``cache_dir`` must be reachable
    from there. With ``cache_dir`` ``None`` it keeps nothing.
    """

    def __init__(self, likes, item_features=None, random_state=None, num_threads: int = 1, cache_dir=None):
        self.likes, self.item_features = likes, item_features
        self.random_state, self.num_threads, self.cache_dir = random_state, num_threads, cache_dir

    def __call__(self, point: Mapping, model, fit_seconds: float) -> None:
        point, path, key = _warp_job(self.likes, point, self.item_features, self.random_state, self.num_threads,
                                     self.cache_dir)
        if path is not None and model is not None:  # a model stored already is left as it is
            cache.cached(path, key, lambda: Fitted(model, self.item_features, fit_seconds))


class Chosen(NamedTuple):
    """A baseline at the setting chosen on validation, refitted, with that setting and its score."""

    fitted: Fitted
    params: dict
    validation: float


#: The protocol each baseline's setting is chosen in: the one in which it can compete. item-kNN
#: and the tags-only model score a user's own train likes highest, so with every model ranked
#: (the posts' protocol) they fill the top of each list with them and score below random: they
#: are chosen with train likes removed. BPR, a factor model like ALS and WARP, is chosen in the
#: posts' protocol, as they are.
BASELINE_PROTOCOLS = {"item-kNN": PROTOCOLS[1], "BPR": PROTOCOLS[0], "tags only": PROTOCOLS[1]}


def choose_baselines(grids: Mapping[str, dict], train, validation, test, users, tags=None, k: int = 5,
                     random_state=None, cache_dir=None) -> dict[str, Chosen]:
    """Each baseline's grid, scored on validation and test, and the setting chosen on validation.

    Each is scored in its protocol of :data:`BASELINE_PROTOCOLS`; with train likes removed,
    validation is scored without the train likes and test without the train and validation
    likes.

    Parameters
    ----------
    grids : mapping of str to dict
        ``"item-kNN"`` (``K``, ``measure``), ``"BPR"`` (implicit's parameters) and
        ``"tags only"`` (``normalize``: ``"l2"`` or ``"none"``; needs ``tags``) -> grid.
    tags : recasketch.preprocess.ItemFeatures, default=None
        The tags-only model's item features.
    cache_dir : str or Path, default=None
        Where each grid's table is kept (:func:`recasketch.parallel.cache.cached`).
    """
    build = {
        "item-kNN": lambda p: fit_timed(lambda: ItemKNN(K=p["K"], measure=p["measure"]), lambda m: m.fit(train)),
        "BPR": lambda p: fit_timed(lambda: BayesianPersonalizedRanking(**p, random_state=random_state, num_threads=1),
                                   lambda m: m.fit(train, show_progress=False)),
        "tags only": lambda p: fit_timed(lambda: TagsOnly(normalize=None if p["normalize"] == "none" else p["normalize"]),
                                         lambda m: m.fit(train, tags.matrix)),
    }
    data = cache.fingerprint(train, validation, test, users, None if tags is None else tags.matrix)
    removed = {"validation": sp.csr_matrix(train), "test": sp.csr_matrix(train + validation)}
    chosen = {}
    for name, grid in grids.items():
        protocol = BASELINE_PROTOCOLS[name]
        exclude = removed if protocol == PROTOCOLS[1] else {"validation": None, "test": None}
        key = {"grid": name, "spec": grid, "seed": random_state, "k": k, "protocol": protocol, "data": data}
        table = cache.cached(cache.path_for(cache_dir, "grid", key), key,
                             functools.partial(small_grid, build[name], grid, validation, test, users, k=k,
                                               exclude_validation=exclude["validation"],
                                               exclude_test=exclude["test"]))
        choice = select_on_validation(table, list(grid)).iloc[0]
        params = {p: int(choice[p]) if isinstance(grid[p][0], int) else choice[p] for p in grid}
        chosen[name] = Chosen(build[name](params), params, float(choice["validation"]))
    return chosen


def tag_idea_curves(variants: Mapping, point: Mapping, step: int, train, validation, users, k: int = 5,
                    random_state=None, num_threads: int = 1, cache_dir=None) -> dict[str, tuple]:
    """WARP at ``point`` with each variant of its item features, its epochs chosen on validation.

    One learning curve per variant (:func:`recasketch.study.evaluation.epochs_on_validation`),
    scored every ``step`` epochs up to the point's ``epochs``, run side by side on the Dask
    cluster, each kept in ``cache_dir`` as it finishes.

    Returns
    -------
    dict of str to (int, Fitted, pandas.DataFrame)
        Variant name -> the best epoch, the model refitted to it, and the curve.
    """
    point = {name: point[name] for name in WARP_DIMENSIONS if name in point}
    point.update(epochs=int(point["epochs"]), no_components=int(point["no_components"]))
    checkpoints = sorted(set(range(step, point["epochs"] + 1, step)) | {point["epochs"]})
    make = functools.partial(warp_model, point, random_state)
    jobs = {}
    for name, matrix in variants.items():
        key = {"variant": name, "point": point, "checkpoints": checkpoints,
               "seed": random_state, "k": k, "threads": num_threads,
               "data": cache.fingerprint(train, validation, users, matrix)}
        jobs[name] = (cache.path_for(cache_dir, "tag-idea", key), key, {"item_features": matrix})
    return cache.cached_map(epochs_on_validation, jobs,
                            shared={"make": make, "train": train, "validation": validation, "users": users,
                                    "epochs": checkpoints, "k": k, "num_threads": num_threads})
