"""A Sketchfab-shaped synthetic likes dataset with known ground truth.

The real crawl (rec-a-sketch's ``model_likes_anon.psv`` and ``model_feats.psv``) is not
redistributable, so tests, CI and the committed sample run on data made here. The
generator plants structure a recommender can learn and a notebook can check:

* **Topics** shared by users and models (``characters``, ``cars``, ``cultural heritage``,
  ``low poly``, ... and a ``tiltbrush`` topic), of uneven sizes. Each model has one
  topic (its ground truth); each user likes one to a few topics, with weights.
* **Niches** nest inside topics: each topic is cut into niches of about ``niche_size``
  models (a kind of sketch, an era of cars), and a user follows ``user_niches`` niches
  in each of the user's topics. Some models (``second_topic_share``) also belong to a
  second topic and one of its niches, so tastes overlap. Niches make the taste space
  far richer than the topics alone: a few components capture the topics, not the
  niches.
* **Likes.** A user's number of likes is heavy-tailed (most users are casual and fall
  below the 5-like threshold). Each like comes, with probability ``topic_share``, from
  the user's tastes: a topic is picked by the user's weights, then with probability
  ``niche_share`` one of the user's niches in it, and a model in proportion to its
  popularity within that niche (or within the whole topic). Otherwise the like is
  taste-free, drawn from the global popularity. Popularity is log-normal, so a few
  models take most likes. Repeated (user, model) draws are collapsed and
  ``n_duplicates`` exact duplicate rows are planted, as in the crawl.
* **Features.** Zero to two Sketchfab categories per model (mostly its topic's), and
  tags: topic tags, tags common to all topics (``blender``, ``lowpoly``, ...) and a long
  tail of rare tags. A topic tag names the model's own topic only with probability
  ``tag_fidelity`` (otherwise another topic's), tags say nothing of niches, and a share
  ``untagged_share`` of models has no tags at all: tags are a noisy, coarse view of
  taste. Every ``tiltbrush`` model carries the tag ``tiltbrush``, and no other does.
* **Names and ids.** Readable model names built from the topic's word lists (a few hold
  ``|``, quotes or backslashes, and one is ``NA``, to exercise the readers) and
  32-character lowercase hex ids.

:func:`make_sketchfab_like` returns the frames and the truth; :func:`write_dataset`
writes the two psv files and ``ground_truth.psv``; :func:`dataset_stats` measures what
the posts report. ``preset="full"`` matches the posts' raw and thresholded statistics
(see :data:`REFERENCE_STATS`), and its structure (niches, overlap, tag noise) is fitted
by :mod:`recasketch.study.calibration` so that ALS, WARP and WARP with tags score near the
posts' figures at the posts' settings (``make calibrate``; the report is in
``data/calibration/``). ``preset="sample"`` is the small committed ``data/sample``.

Command line::

    python -m recasketch.datasets.synthetic --preset sample --out data/sample
    python -m recasketch.datasets.synthetic --preset full --stats
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .. import config
from ..preprocess import build_item_features, interaction_stats, threshold_interactions
from ..utils import check_random_state
from .presets import PRESETS, REFERENCE_STATS, Preset
from .vocabulary import (CATEGORIES, COMMON_TAGS, ODD_NAMES, TILTBRUSH_TAG, TOPICS, model_names,
                         pick, tail_vocab, topic_feature_keys)

__all__ = ["CATEGORIES", "PRESETS", "REFERENCE_STATS", "Preset", "SyntheticData", "TOPICS", "dataset_stats",
           "format_stats", "make_sketchfab_like", "topic_feature_keys", "write_dataset"]

#: The psv dialect of the crawl; pass to ``DataFrame.to_csv``. Read it back with
#: ``pd.read_csv(path, sep="|", quoting=csv.QUOTE_MINIMAL, quotechar="\\",
#: keep_default_na=False)``.
PSV_WRITE_OPTIONS = dict(
    sep="|", index=False, quoting=csv.QUOTE_MINIMAL, escapechar="\\", quotechar="\\"
)

_STAT_LABELS = {
    "raw_users": "raw users",
    "raw_models": "raw models",
    "raw_likes": "raw likes (deduplicated)",
    "duplicates": "duplicate rows",
    "raw_sparsity": "raw sparsity (%)",
    "users": "5/5 users",
    "models": "5/5 models",
    "likes": "5/5 likes",
    "sparsity": "5/5 sparsity (%)",
    "feature_models": "item features: rows",
    "feature_keys": "item features: keys",
    "feature_nnz": "item features: stored",
}


class SyntheticData(NamedTuple):
    """A generated dataset and its ground truth.

    Attributes
    ----------
    likes : pandas.DataFrame
        Columns ``modelname``, ``mid``, ``uid``: the likes file as written, exact
        duplicate rows included.
    features : pandas.DataFrame
        Columns ``mid``, ``type``, ``value``; ``type`` is ``"category"`` or ``"tag"``.
    model_topics : pandas.DataFrame
        Columns ``mid``, ``topic``: the one true topic of every model in ``likes``.
    user_topics : pandas.DataFrame
        Columns ``uid``, ``topic``, ``weight``: each user's topics (one or more rows per
        user), weights summing to about 1 per user.
    topics : tuple of str
        The topic names.
    preset : str
        The preset the data was made with.
    """

    likes: pd.DataFrame
    features: pd.DataFrame
    model_topics: pd.DataFrame
    user_topics: pd.DataFrame
    topics: tuple
    preset: str


def _get_preset(preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    try:
        return PRESETS[preset]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown preset {preset!r}; choose one of {sorted(PRESETS)}."
        ) from None


def _hex_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct 32-character lowercase hex ids drawn from ``rng``."""
    ids = np.empty(0, dtype=object)
    while len(ids) < n:
        raw = rng.bytes(16 * (n - len(ids))).hex()
        new = np.array([raw[i:i + 32] for i in range(0, len(raw), 32)], dtype=object)
        ids = pd.unique(np.concatenate([ids, new]))
    return np.asarray(ids, dtype=object)


def _stratified_normal(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` standard normal draws, one from each of ``n`` equal-probability strata, in
    random order: the sample's spread (and so the heavy tail's total) barely depends on
    the seed."""
    return ndtri((rng.permutation(n) + rng.random(n)) / n)


def make_sketchfab_like(preset: str = "sample", random_state=0) -> SyntheticData:
    """Generate a Sketchfab-shaped likes dataset with known topics.

    Parameters
    ----------
    preset : {"sample", "full"}, default="sample"
        Size and shape (see :data:`PRESETS`). ``"full"`` has the posts' raw and 5/5
        thresholded statistics; ``"sample"`` is the small committed dataset.
    random_state : None, int or numpy.random.Generator, default=0
        Seed of every draw; the same seed gives identical frames.

    Returns
    -------
    SyntheticData
        ``(likes, features, model_topics, user_topics, topics, preset)``.

    Raises
    ------
    ValueError
        If ``preset`` is not one of :data:`PRESETS`.

    Examples
    --------
    >>> data = make_sketchfab_like("sample", random_state=0)
    >>> list(data.likes.columns), list(data.features.columns)
    (['modelname', 'mid', 'uid'], ['mid', 'type', 'value'])
    >>> int(data.likes.duplicated().sum()) == PRESETS["sample"].n_duplicates
    True
    """
    p = _get_preset(preset)
    rng = check_random_state(random_state)
    cat = _draw_models(p, rng)
    tastes = _draw_tastes(p, cat, rng)
    like_user, like_model = _draw_likes(p, cat, tastes, rng)
    like_user, like_model, models = _as_crawled(like_user, like_model, p, rng)
    user_ids, model_ids, names = _ids_and_names(p, models, cat.model_topic, rng)
    likes = pd.DataFrame({
        "modelname": names[like_model],
        "mid": model_ids[like_model],
        "uid": user_ids[like_user],
    })
    features = _make_features(models, cat.model_topic, model_ids, p, rng)
    model_topics, user_topics = _truth(models, cat.model_topic, model_ids, tastes, user_ids)
    return SyntheticData(likes=likes, features=features, model_topics=model_topics, user_topics=user_topics,
                         topics=tuple(t.name for t in TOPICS),
                         preset=preset if isinstance(preset, str) else "custom")


class _Catalogue(NamedTuple):
    """The drawn models, as the like draws see them (see :func:`_draw_models`)."""

    topic_w: np.ndarray  # each topic's share of the models
    model_topic: np.ndarray  # each model's topic; models are sorted by it
    niche_start: np.ndarray  # each topic's first niche: niches are numbered topic by topic
    n_niches: np.ndarray  # each topic's number of niches
    entry_model: np.ndarray  # each entry's model; entries are sorted by niche
    cum_pop: np.ndarray  # the cumulative popularity over the entries
    topic_block: tuple  # (lo, hi, nonempty) of each topic's block of cum_pop
    niche_block: tuple  # the same, of each niche


def _draw_models(p: Preset, rng) -> _Catalogue:
    """Topic sizes, then each model's topic, popularity and niche, and the second topics.

    Draws pick an "entry" (a model's membership of a niche) in proportion to the model's
    popularity; entries sorted by niche make every niche, and every topic, one contiguous
    block of the cumulative popularity.
    """
    n_topics = len(TOPICS)
    # Topics: sizes jittered around the table's weights.
    topic_w = np.array([t.weight for t in TOPICS])
    topic_w = topic_w * rng.lognormal(0.0, p.topic_size_sigma, n_topics)
    topic_w /= topic_w.sum()

    # Models: a topic and a log-normal popularity each, sorted by topic; within its topic
    # a niche. Some models also join a second topic and one of its niches.
    model_topic = np.sort(rng.choice(n_topics, size=p.n_models, p=topic_w))
    popularity = p.popularity_floor + np.exp(
        p.popularity_sigma * _stratified_normal(p.n_models, rng))
    per_topic = np.bincount(model_topic, minlength=n_topics)
    n_niches = np.maximum(1, np.round(per_topic / p.niche_size)).astype(np.int64)
    niche_start = np.concatenate([[0], np.cumsum(n_niches)[:-1]])
    model_niche = niche_start[model_topic] + (
        rng.random(p.n_models) * n_niches[model_topic]).astype(np.int64)
    second = np.flatnonzero(rng.random(p.n_models) < p.second_topic_share)
    second_topic = rng.choice(n_topics, size=len(second), p=topic_w)
    second_niche = niche_start[second_topic] + (
        rng.random(len(second)) * n_niches[second_topic]).astype(np.int64)

    entry_model = np.concatenate([np.arange(p.n_models), second])
    entry_niche = np.concatenate([model_niche, second_niche])
    order = np.argsort(entry_niche, kind="stable")
    entry_model, entry_niche = entry_model[order], entry_niche[order]
    cum_pop = np.cumsum(popularity[entry_model])
    entry_topic = np.searchsorted(niche_start, entry_niche, side="right") - 1
    return _Catalogue(topic_w, model_topic, niche_start, n_niches, entry_model, cum_pop,
                      _block_bounds(entry_topic, n_topics, cum_pop),
                      _block_bounds(entry_niche, int(n_niches.sum()), cum_pop))


def _block_bounds(keys, n_keys, cum_pop):
    """``(lo, hi, nonempty)``: ``cum_pop`` before and at the end of each key's block of the
    sorted ``keys``, and whether the block holds any entry."""
    end = np.searchsorted(keys, np.arange(n_keys), side="right")
    start = np.searchsorted(keys, np.arange(n_keys), side="left")
    lo = np.where(start > 0, cum_pop[np.maximum(start - 1, 0)], 0.0)
    hi = np.where(end > 0, cum_pop[np.maximum(end - 1, 0)], 0.0)
    return lo, hi, end > start


class _Tastes(NamedTuple):
    """The drawn users' tastes: a row per user, a column ("slot") per topic of the user's."""

    k: np.ndarray  # each user's number of topics
    topic: np.ndarray  # (users, slots): the topics, in slot order
    weight: np.ndarray  # (users, slots): the weights, 0 on unused slots
    used: np.ndarray  # (users, slots): whether the slot is one of the user's k topics
    cum_w: np.ndarray  # (users, slots): the cumulative weights, the last 1
    niche: np.ndarray  # (users, slots, user niches): the niches followed in each topic


def _draw_tastes(p: Preset, cat: _Catalogue, rng) -> _Tastes:
    """Each user's topics, weights and niches.

    1 + Poisson topics (at most 8) drawn without replacement in proportion to the topic
    sizes (Gumbel top-k), Dirichlet weights rounded to 3 decimals. A topic that drew no
    model (possible in a small preset) is nobody's interest. In each of its topics a user
    follows ``user_niches`` niches (uniformly, with repeats).
    """
    has_models = cat.topic_block[2]
    max_k = min(8, int(has_models.sum()))
    k_user = np.minimum(1 + rng.poisson(p.extra_topics_mean, p.n_users), max_k)
    with np.errstate(divide="ignore"):
        log_w = np.log(np.where(has_models, cat.topic_w, 0.0))
    gumbel = log_w[None, :] - np.log(-np.log(rng.random((p.n_users, len(TOPICS)))))
    user_topic = np.argsort(-gumbel, axis=1)[:, :max_k]
    slot_used = np.arange(max_k)[None, :] < k_user[:, None]
    raw_w = rng.gamma(p.topic_concentration, size=(p.n_users, max_k)) * slot_used
    user_w = np.round(raw_w / raw_w.sum(axis=1, keepdims=True), 3)
    user_w = np.where(slot_used & (user_w == 0), 0.001, user_w)
    cum_w = np.cumsum(user_w, axis=1)
    cum_w /= cum_w[:, -1:]
    n_user_niches = max(1, int(p.user_niches))
    user_niche = cat.niche_start[user_topic][:, :, None] + (
        rng.random((p.n_users, max_k, n_user_niches)) * cat.n_niches[user_topic][:, :, None]
    ).astype(np.int64)
    return _Tastes(k_user, user_topic, user_w, slot_used, cum_w, user_niche)


def _draw_likes(p: Preset, cat: _Catalogue, tastes: _Tastes, rng):
    """The distinct likes, as ``(user, model)`` index arrays sorted by user, then model.

    Heavy-tailed activity; each draw from one of the user's niches, from one of the user's
    topics at large, or global noise (popularity regardless of taste). Repeated draws of a
    (user, model) pair collapse.
    """
    activity = 1 + np.floor(
        p.activity_median * np.exp(p.activity_sigma * _stratified_normal(p.n_users, rng)))
    activity = np.minimum(activity, p.max_activity).astype(np.int64)
    draw_user = np.repeat(np.arange(p.n_users), activity)
    n_draws = len(draw_user)
    from_topic = rng.random(n_draws) < p.topic_share
    slot = (rng.random(n_draws)[:, None] > tastes.cum_w[draw_user]).sum(axis=1)
    slot = np.minimum(slot, tastes.k[draw_user] - 1)
    draw_topic = tastes.topic[draw_user, slot]
    n_user_niches = tastes.niche.shape[2]
    draw_niche = tastes.niche[draw_user, slot, rng.integers(0, n_user_niches, size=n_draws)]
    (cum_lo, cum_hi, _), (niche_lo, niche_hi, niche_used) = cat.topic_block, cat.niche_block
    in_niche = (rng.random(n_draws) < p.niche_share) & niche_used[draw_niche]
    u = rng.random(n_draws)
    lo = np.where(in_niche, niche_lo[draw_niche], cum_lo[draw_topic])
    hi = np.where(in_niche, niche_hi[draw_niche], cum_hi[draw_topic])
    target = np.where(from_topic, lo + u * (hi - lo), u * cat.cum_pop[-1])
    draw_entry = np.minimum(np.searchsorted(cat.cum_pop, target, side="right"),
                            len(cat.cum_pop) - 1)
    pairs = np.unique(draw_user * np.int64(p.n_models) + cat.entry_model[draw_entry])
    return pairs // p.n_models, pairs % p.n_models


def _as_crawled(like_user, like_model, p: Preset, rng):
    """The likes in crawl order with the planted duplicates, and the liked models in it.

    Only liked models exist in the crawl; they are numbered in a random "crawl" order and
    each model's likers listed together, in random order. A planted exact duplicate is a
    row repeated right after itself.
    """
    liked = np.unique(like_model)
    crawl_rank = np.empty(p.n_models, dtype=np.int64)
    crawl_rank[liked] = rng.permutation(len(liked))
    order = np.lexsort((rng.random(len(like_user)), crawl_rank[like_model]))
    like_user, like_model = like_user[order], like_model[order]
    models = liked[np.argsort(crawl_rank[liked])]  # models in crawl order
    dup = np.sort(rng.choice(len(like_user), size=p.n_duplicates, replace=False))
    rows = np.sort(np.concatenate([np.arange(len(like_user)), dup]), kind="stable")
    return like_user[rows], like_model[rows], models


def _ids_and_names(p: Preset, models, model_topic, rng):
    """Hex ids of the users and of the liked ``models``, and the models' names (a few odd)."""
    user_ids = _hex_ids(p.n_users, rng)
    model_ids = np.empty(p.n_models, dtype=object)
    model_ids[models] = _hex_ids(len(models), rng)
    names = np.empty(p.n_models, dtype=object)
    names[models] = model_names(model_topic[models], rng)
    odd = rng.choice(models, size=len(ODD_NAMES), replace=False)
    names[odd] = ODD_NAMES
    return user_ids, model_ids, names


def _truth(models, model_topic, model_ids, tastes: _Tastes, user_ids):
    """The ``model_topics`` and ``user_topics`` frames of :class:`SyntheticData`."""
    topic_names = [t.name for t in TOPICS]
    model_topics = pd.DataFrame({
        "mid": model_ids[models],
        "topic": pick(topic_names, model_topic[models]),
    })
    ut_user, ut_slot = np.nonzero(tastes.used)
    user_topics = pd.DataFrame({
        "uid": user_ids[ut_user],
        "topic": pick(topic_names, tastes.topic[ut_user, ut_slot]),
        "weight": tastes.weight[ut_user, ut_slot],
    })
    return model_topics, user_topics


def _make_features(models, model_topic, model_ids, p: Preset, rng) -> pd.DataFrame:
    """Categories and tags of the liked ``models`` (model indices in crawl order)."""
    topic_of = model_topic[models]
    cat_model, cat_value, cat_order = _draw_categories(topic_of, p, rng)
    tag_model, values, tag_order = _draw_tags(topic_of, p, rng)
    frame = pd.DataFrame({
        "model": np.concatenate([cat_model, tag_model]),
        "kind": np.repeat([0, 1], [len(cat_model), len(tag_model)]),
        "order": np.concatenate([cat_order, tag_order]),
        "value": np.concatenate([pick(CATEGORIES, cat_value), values]),
    })
    frame = frame.drop_duplicates(["model", "value"]).sort_values(
        ["model", "kind", "order"], kind="stable")
    return pd.DataFrame({
        "mid": model_ids[models][frame["model"].to_numpy()],
        "type": np.where(frame["kind"].to_numpy() == 0, "category", "tag").astype(object),
        "value": frame["value"].to_numpy(dtype=object),
    })


def _draw_categories(topic_of, p: Preset, rng):
    """0-2 categories per model, the first mostly its topic's own, the second any other:
    ``(model, category index, order)`` arrays, a row per category."""
    n = len(topic_of)
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    own_cat = np.array([cat_index[t.category] for t in TOPICS])[topic_of]
    n_cat = rng.choice(3, size=n, p=p.category_probs)
    first = np.where(rng.random(n) < p.own_category_prob, own_cat,
                     rng.integers(0, len(CATEGORIES), size=n))
    second = (first + rng.integers(1, len(CATEGORIES), size=n)) % len(CATEGORIES)
    cat_model = np.concatenate([np.flatnonzero(n_cat >= 1), np.flatnonzero(n_cat >= 2)])
    cat_value = np.concatenate([first[n_cat >= 1], second[n_cat >= 2]])
    cat_order = np.repeat([0, 1], [int((n_cat >= 1).sum()), int((n_cat >= 2).sum())])
    return cat_model, cat_value, cat_order


def _zipf_index(u, size, exponent, offset=0.0):
    """Ranks in ``0 .. size - 1`` for the uniforms ``u``, rank ``r`` with probability in
    proportion to ``(r + 1 + offset) ** -exponent``."""
    cdf = np.cumsum((np.arange(1, size + 1) + offset) ** -exponent)
    return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), size - 1)


def _draw_tags(topic_of, p: Preset, rng):
    """Tags per model: ``(model, tag, order)`` arrays, a row per tag.

    An overdispersed count per model; each draw from the topic's tags (Zipf within the
    topic), the common tags (Zipf) or the long tail (Zipf, rarer). Some uploaders write no
    tags; the rest write more, keeping the mean. Every tiltbrush model carries the tag, first.
    """
    n = len(topic_of)
    shape = 1.5
    tagged_mean = p.tags_mean / (1.0 - p.untagged_share)
    n_tag = rng.negative_binomial(shape, shape / (shape + tagged_mean), size=n)
    n_tag = np.where(rng.random(n) < p.untagged_share, 0, np.minimum(n_tag, 40))
    tag_model = np.repeat(np.arange(n), n_tag)
    m = len(tag_model)
    source = rng.random(m)
    u = rng.random(m)
    tail = tail_vocab(p.tail_vocab, rng)

    values = np.empty(m, dtype=object)
    is_topic = source < p.topic_tag_share
    is_common = ~is_topic & (source < p.topic_tag_share + p.common_tag_share)
    is_tail = ~is_topic & ~is_common
    # A topic-tag draw names the model's own topic with probability tag_fidelity,
    # otherwise another topic (by size): tags shared across topics.
    topic_w = np.array([t.weight for t in TOPICS])
    tag_topic = np.where(rng.random(m) < p.tag_fidelity, topic_of[tag_model],
                         rng.choice(len(TOPICS), size=m, p=topic_w / topic_w.sum()))
    for t, topic in enumerate(TOPICS):
        rows = np.flatnonzero(is_topic & (tag_topic == t))
        values[rows] = pick(topic.tags, _zipf_index(u[rows], len(topic.tags), 0.8))
    values[is_common] = pick(COMMON_TAGS, _zipf_index(u[is_common], len(COMMON_TAGS), 0.9))
    values[is_tail] = tail[_zipf_index(u[is_tail], len(tail), p.tail_exponent, p.tail_offset)]
    capital = rng.random(m) < p.tag_case_share
    values[capital] = np.array([v[:1].upper() + v[1:] for v in values[capital]], dtype=object)

    tb_models = np.flatnonzero(topic_of == [t.name for t in TOPICS].index(TILTBRUSH_TAG))
    tag_model = np.concatenate([tb_models, tag_model])
    values = np.concatenate([np.full(len(tb_models), TILTBRUSH_TAG, dtype=object), values])
    tag_order = np.concatenate([np.zeros(len(tb_models)), 1 + np.arange(m)])
    return tag_model, values, tag_order


def _write_psv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, lineterminator="\n", **PSV_WRITE_OPTIONS)


def write_dataset(data: SyntheticData, out_dir) -> dict:
    """Write a generated dataset as the crawl's two psv files plus its ground truth.

    Parameters
    ----------
    data : SyntheticData
        What :func:`make_sketchfab_like` returned.
    out_dir : str or pathlib.Path
        Folder to write into; created if missing. Existing files are replaced.

    Returns
    -------
    dict
        ``{"likes": path, "features": path, "truth": path}``: the files written,
        named as in :mod:`recasketch.config` (``model_likes_anon.psv``,
        ``model_feats.psv``, ``ground_truth.psv``).

    Notes
    -----
    The files use the crawl's dialect: ``|``-separated, minimal quoting with ``\\`` as
    the quote character. ``ground_truth.psv`` has the columns ``kind|id|topic|weight``
    with ``kind`` ``model`` (weight 1) or ``user``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "likes": out_dir / config.LIKES_FILE,
        "features": out_dir / config.FEATURES_FILE,
        "truth": out_dir / config.TRUTH_FILE,
    }
    _write_psv(data.likes[["modelname", "mid", "uid"]], paths["likes"])
    _write_psv(data.features[["mid", "type", "value"]], paths["features"])
    truth = pd.concat([
        pd.DataFrame({"kind": "model", "id": data.model_topics["mid"],
                      "topic": data.model_topics["topic"], "weight": 1.0}),
        pd.DataFrame({"kind": "user", "id": data.user_topics["uid"],
                      "topic": data.user_topics["topic"], "weight": data.user_topics["weight"]}),
    ], ignore_index=True)
    _write_psv(truth, paths["truth"])
    return paths


def dataset_stats(data, features=None, user_min: int = 5, item_min: int = 5) -> dict:
    """The statistics the posts report, for a generated or a real dataset.

    Parameters
    ----------
    data : SyntheticData or pandas.DataFrame
        A generated dataset, or a raw likes frame (``mid``, ``uid``; duplicate rows
        included).
    features : pandas.DataFrame, optional
        The features frame, when ``data`` is a likes frame. Without it the feature
        statistics are left out.
    user_min, item_min : int, default=5
        The thresholds of the k-core.

    Returns
    -------
    dict
        ``raw_users``, ``raw_models``, ``raw_likes`` (rows without duplicates),
        ``duplicates`` (exact duplicate rows), ``raw_sparsity`` (%), ``users``,
        ``models``, ``likes``, ``sparsity`` (%) after thresholding, and with features
        ``feature_models``, ``feature_keys``, ``feature_nnz``: the shape and stored
        elements of :func:`~recasketch.preprocess.build_item_features` over the
        thresholded models.
    """
    if isinstance(data, SyntheticData):
        likes, features = data.likes, data.features if features is None else features
    elif isinstance(data, pd.DataFrame):
        likes = data
    else:
        raise TypeError(
            f"data must be a SyntheticData or a likes DataFrame, got {type(data).__name__}."
        )
    duplicates = int(likes.duplicated().sum())
    dedup = likes.drop_duplicates()
    raw = interaction_stats(dedup)
    kept = threshold_interactions(dedup, user_min=user_min, item_min=item_min, verbose=False)
    core = interaction_stats(kept)
    stats = {
        "raw_users": raw["users"],
        "raw_models": raw["items"],
        "raw_likes": raw["likes"],
        "duplicates": duplicates,
        "raw_sparsity": raw["sparsity"],
        "users": core["users"],
        "models": core["items"],
        "likes": core["likes"],
        "sparsity": core["sparsity"],
    }
    if features is not None:
        item_features = build_item_features(features, pd.unique(kept["mid"]))
        stats.update(feature_models=int(item_features.matrix.shape[0]),
                     feature_keys=int(item_features.matrix.shape[1]),
                     feature_nnz=int(item_features.matrix.nnz))
    return stats


def format_stats(stats: dict, reference: dict | None = None) -> str:
    """A plain-text table of :func:`dataset_stats`, beside ``reference`` figures if given.

    With a reference, each row shows the reference value and the relative difference,
    and the last line says whether every published figure is within 5 %.
    """
    def fmt(key, value):
        if value is None:
            return "-"
        return f"{value:.3f}" if "sparsity" in key else f"{int(value):,}"

    lines = []
    if reference is None:
        lines.append(f"{'statistic':<26} {'value':>12}")
        for key, value in stats.items():
            lines.append(f"{_STAT_LABELS.get(key, key):<26} {fmt(key, value):>12}")
        return "\n".join(lines)

    lines.append(f"{'statistic':<26} {'synthetic':>12} {'reference':>12} {'rel. diff':>10}")
    worst = 0.0
    for key, value in stats.items():
        ref = reference.get(key)
        if ref is None and key == "feature_models":
            ref = reference.get("models")
        diff = ""
        if ref:
            rel = (value - ref) / ref
            worst = max(worst, abs(rel))
            diff = f"{100 * rel:+.1f} %"
        lines.append(
            f"{_STAT_LABELS.get(key, key):<26} {fmt(key, value):>12} {fmt(key, ref):>12} {diff:>10}"
        )
    verdict = "yes" if worst <= 0.05 else "NO"
    lines.append(
        f"every published figure within 5 %: {verdict} (largest difference {100 * worst:.1f} %)"
    )
    return "\n".join(lines)


def main(argv=None) -> int:
    """Command line: generate a preset, write it and/or print its statistics."""
    parser = argparse.ArgumentParser(
        prog="python -m recasketch.datasets.synthetic",
        description="Generate a synthetic Sketchfab-like likes dataset (NOT real Sketchfab data).",
    )
    parser.add_argument("--preset", default="sample", choices=sorted(PRESETS),
                        help="dataset size and shape (default: sample)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder to write the three psv files into (default: data/sample "
                             "or data/synthetic-full; with --stats alone nothing is written)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--stats", action="store_true",
                        help="print the raw and 5/5-thresholded statistics "
                             "(beside the posts' figures for --preset full)")
    args = parser.parse_args(argv)

    data = make_sketchfab_like(args.preset, random_state=args.seed)
    out = args.out
    if out is None and not args.stats:
        out = config.SAMPLE_DIR if args.preset == "sample" else config.SYNTHETIC_FULL_DIR
    if out is not None:
        paths = write_dataset(data, out)
        for path in paths.values():
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    if args.stats:
        stats = dataset_stats(data)
        reference = REFERENCE_STATS if args.preset == "full" else None
        print(f"Synthetic preset {args.preset!r}, seed {args.seed}:")
        print(format_stats(stats, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
