"""Benchmarks: recasketch's steps timed beside the straightforward methods, in one run.

``python -m recasketch.tools.bench`` (``make bench``) writes the full-size synthetic dataset
(if missing) and prints two tables:

1. preprocessing — read, drop duplicates, threshold, build the matrix, split — with
   recasketch's functions and with the straightforward pandas/dict/lil code of the
   posts' era;
2. one evaluation checkpoint of a 40-factor ALS model on the 20 % split users — train
   and test p@5 (post protocol) and train and test MSE, four separate calls — against
   dense float64 predictions with a per-user argsort loop and a dense MSE, against
   ``lightfm.evaluation.precision_at_k``, and the train-filtered test p@5 against
   ``implicit.evaluation.precision_at_k``; with the peak memory each one allocates.

3. one checkpoint of a WARP model with identity + tag features — train p@5 and test
   p@5 in both protocols — against ``lightfm.evaluation.precision_at_k``.

``python -m recasketch.tools.bench search --calls 30`` (``make bench-search``) runs the first
calls of post 2's search without features, resumable from its log, and projects the
wall time of the post's 250 + 50 calls from the measured seconds per call.

4. the same small ALS grid run by a process pool and by a Dask LocalCluster (started
   cold, then reused), side by side: the overhead of running the grids on Dask.

``python -m recasketch.tools.bench dask`` (``make bench-dask``) times a larger slice of post 1's
grid (checkpoints every 2 epochs to 38) both ways, alternating, ``--repeat`` times.

``python -m recasketch.tools.bench grid`` (``make bench-grid``) runs post 1's whole grid (180
combinations, checkpoints every 2 epochs to 38) and prints its wall time beside the
same grid's time with the dense evaluation, estimated from a few combinations measured
in the same run.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import csv  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402
from implicit.evaluation import precision_at_k as implicit_precision  # noqa: E402
from lightfm import LightFM  # noqa: E402
from lightfm.evaluation import precision_at_k as lightfm_precision  # noqa: E402

from .. import config, metrics  # noqa: E402
from ..data import read_features, read_likes  # noqa: E402
from ..datasets.synthetic import make_sketchfab_like, write_dataset  # noqa: E402
from ..parallel import cluster  # noqa: E402
from ..preprocess import build_interactions, build_item_features, threshold_interactions  # noqa: E402
from ..split import train_test_split  # noqa: E402
from ..study import published  # noqa: E402
from ..tuning.grid import grid_search_learning_curve  # noqa: E402
from ..tuning.objectives import LightFMObjective  # noqa: E402
from ..tuning.search import resumable_search  # noqa: E402
from .reference import dense_predictions, naive_mse, naive_precision_at_k  # noqa: E402

__all__ = ["main"]


# ------------------------------------------------------------------ helpers


def _measure(fn, repeat: int = 1):
    """Run ``fn`` ``repeat`` times; return (result, median seconds, peak bytes of the first run)."""
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times = [first]
    for _ in range(repeat - 1):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times), peak


def _table(rows, headers) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |",
           line.replace("-", "=")]
    for r in rows:
        out.append("| " + " | ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                     for i, (c, w) in enumerate(zip(r, widths))) + " |")
    out.append(line)
    return "\n".join(out)


def _mb(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.0f} MB"


def _machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def ensure_full_dataset(out_dir: Path = config.SYNTHETIC_FULL_DIR) -> Path:
    """Write the ``full`` synthetic preset to ``out_dir`` unless it is already there."""
    if not (out_dir / config.LIKES_FILE).exists():
        print(f"writing the full synthetic preset to {out_dir} ...", flush=True)
        write_dataset(make_sketchfab_like("full", random_state=0), out_dir)
    return out_dir


# ------------------------------------------- the straightforward methods, for comparison


def straightforward_read(path):
    return pd.read_csv(path, sep="|", quoting=csv.QUOTE_MINIMAL, quotechar="\\")


def straightforward_threshold(df, user_min=5, item_min=5):
    """The iterative loop with groupby counts and isin filters."""
    while True:
        start = df.shape[0]
        per_user = df.groupby("uid").mid.count()
        df = df[~df.uid.isin(per_user[per_user < user_min].index.tolist())]
        per_item = df.groupby("mid").uid.count()
        df = df[~df.mid.isin(per_item[per_item < item_min].index.tolist())]
        if df.shape[0] == start:
            return df


def straightforward_matrix(df):
    """Python dictionaries for the id maps, applied row by row, then a COO -> CSR matrix."""
    mid_to_idx, idx_to_mid, uid_to_idx, idx_to_uid = {}, {}, {}, {}
    for idx, mid in enumerate(df.mid.unique().tolist()):
        mid_to_idx[mid] = idx
        idx_to_mid[idx] = mid
    for idx, uid in enumerate(df.uid.unique().tolist()):
        uid_to_idx[uid] = idx
        idx_to_uid[idx] = uid
    rows = df.uid.apply(lambda u: uid_to_idx[u]).to_numpy()
    cols = df.mid.apply(lambda m: mid_to_idx[m]).to_numpy()
    return sp.coo_matrix((np.ones(len(rows)), (rows, cols)), dtype=np.float64).tocsr()


def straightforward_split(ratings, split_count=5, fraction=0.2, seed=0):
    """Draw users, then move each one's test likes with LIL-matrix assignments."""
    rng = np.random.RandomState(seed)
    train = ratings.copy().tocoo()
    test = sp.lil_matrix(train.shape)
    eligible = np.where(np.bincount(train.row) >= split_count * 2)[0]
    users = rng.choice(eligible, replace=False, size=int(np.floor(fraction * train.shape[0]))).tolist()
    train = train.tolil()
    for user in users:
        held = rng.choice(ratings.getrow(user).indices, size=split_count, replace=False)
        train[user, held] = 0.0
        test[user, held] = ratings[user, held]
    return train.tocsr(), test.tocsr(), users


def dense_checkpoint(model, train, test, users, k=5):
    """The post's evaluation: dense float64 predictions for every user, an argsort per
    user for p@k, sklearn's MSE over the dense rows (see :mod:`recasketch.tools.reference`)."""
    predictions = dense_predictions(model)
    out = {}
    for name, ratings in (("train", train), ("test", test)):
        out["p@k", name] = naive_precision_at_k(predictions, ratings, k=k, users=users)
        out["mse", name] = naive_mse(predictions, ratings, users=users)
    return out


# ------------------------------------------------------------------ the benchmarks


def _timed_steps(*steps):
    """Run ``(name, function)`` steps in turn, each on the result of the one before: their seconds, the result."""
    seconds, value = {}, None
    for name, function in steps:
        start = time.perf_counter()
        value = function(value)
        seconds[name] = time.perf_counter() - start
    return seconds, value


def bench_preprocessing(data_dir: Path):
    path = data_dir / config.LIKES_FILE

    def ours():
        kept = {}
        steps, split = _timed_steps(
            ("read + drop duplicates", lambda _: read_likes(path, drop_duplicates=True)),
            ("threshold 5/5", lambda likes: threshold_interactions(likes, verbose=False)),
            ("matrix + id maps", lambda core: kept.setdefault("inter", build_interactions(core))),
            ("split", lambda inter: train_test_split(inter.matrix, 5, 0.2, random_state=0)))
        return steps, kept["inter"], split

    def theirs():
        return _timed_steps(("read + drop duplicates", lambda _: straightforward_read(path).drop_duplicates()),
                            ("threshold 5/5", straightforward_threshold),
                            ("matrix + id maps", straightforward_matrix), ("split", straightforward_split))[0]

    runs = [ours() for _ in range(3)]
    best = min(runs, key=lambda r: sum(r[0].values()))
    our_steps, inter, split = best
    their_steps = theirs()
    rows = []
    for step in our_steps:
        rows.append((step, f"{our_steps[step]:.3f}", f"{their_steps[step]:.3f}",
                     f"{their_steps[step] / our_steps[step]:.1f}x"))
    total_ours, total_theirs = sum(our_steps.values()), sum(their_steps.values())
    rows.append(("total", f"{total_ours:.3f}", f"{total_theirs:.3f}", f"{total_theirs / total_ours:.1f}x"))
    print("\nPreprocessing (seconds; best of 3 for recasketch, one run for the straightforward code)")
    print(_table(rows, ["step", "recasketch", "straightforward", "speed-up"]))
    return inter, split


def bench_checkpoint(inter, split, factors: int = 40, repeat: int = 5):

    train, test, users = split
    model = AlternatingLeastSquares(factors=factors, regularization=0.1, alpha=50, iterations=10,
                                    random_state=0)
    model.fit(train, show_progress=False)

    def ours():
        return {
            ("p@k", "train"): metrics.precision_at_k(model, train, k=5, users=users),
            ("p@k", "test"): metrics.precision_at_k(model, test, k=5, users=users),
            ("mse", "train"): metrics.mse(model, train, users=users),
            ("mse", "test"): metrics.mse(model, test, users=users),
        }

    our_scores, our_t, our_mem = _measure(ours, repeat)
    dense_scores, dense_t, dense_mem = _measure(lambda: dense_checkpoint(model, train, test, users))
    for key in our_scores:
        if not np.isclose(our_scores[key], dense_scores[key], rtol=1e-3, atol=1e-6):
            print(f"warning: {key} differs: recasketch {our_scores[key]:.6f} vs dense {dense_scores[key]:.6f}")

    # The same factors inside a LightFM model (biases zero), for lightfm's evaluation.
    lfm = LightFM(no_components=factors)
    lfm._initialize(factors, train.shape[1], train.shape[0])  # allocate, then overwrite below
    lfm.user_embeddings = np.ascontiguousarray(model.user_factors, dtype=np.float32)
    lfm.item_embeddings = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    lfm.user_biases = np.zeros(train.shape[0], dtype=np.float32)
    lfm.item_biases = np.zeros(train.shape[1], dtype=np.float32)
    test_users_only = test  # only split users have test likes
    lfm_p, lfm_t, lfm_mem = _measure(
        lambda: lightfm_precision(lfm, test_users_only, k=5, num_threads=os.cpu_count()).mean(), repeat)
    our_lfm_p, our_lfm_t, our_lfm_mem = _measure(
        lambda: metrics.precision_at_k(lfm, test_users_only, k=5), repeat)

    imp_p, imp_t, imp_mem = _measure(
        lambda: implicit_precision(model, train, test, K=5, show_progress=False, num_threads=0), repeat)
    filt_p, filt_t, filt_mem = _measure(
        lambda: metrics.precision_at_k(model, test, k=5, users=users, exclude=train), repeat)

    print(f"\nOne evaluation checkpoint: {factors}-factor ALS, {len(users):,} split users x "
          f"{train.shape[1]:,} items (median of {repeat} runs for the fast methods)")
    rows = [
        ("train+test p@5 and MSE (4 calls)", f"{our_t:.3f}", _mb(our_mem),
         f"{dense_t:.3f}", _mb(dense_mem), f"{dense_t / our_t:.0f}x", "dense + argsort loop + dense MSE"),
        ("test p@5, all items (LightFM model)", f"{our_lfm_t:.3f}", _mb(our_lfm_mem),
         f"{lfm_t:.3f}", _mb(lfm_mem), f"{lfm_t / our_lfm_t:.1f}x", "lightfm.evaluation.precision_at_k"),
        ("test p@5, train items excluded", f"{filt_t:.3f}", _mb(filt_mem),
         f"{imp_t:.3f}", _mb(imp_mem), f"{imp_t / filt_t:.1f}x", "implicit.evaluation.precision_at_k"),
    ]
    print(_table(rows, ["measurement", "recasketch s", "peak", "peer s", "peak", "speed-up", "peer"]))
    print("scores: " + ", ".join(f"{m} {s} {v:.5f}" for (m, s), v in our_scores.items())
          + f" | dense p@5 test {dense_scores['p@k', 'test']:.5f}"
          + f" | LightFM-model p@5 ours {our_lfm_p:.5f} vs lightfm {lfm_p:.5f}"
          + f" | filtered p@5 ours {filt_p:.5f} vs implicit {imp_p:.5f}")


def bench_grid(inter, split, n_jobs: int, log_path: Path, sample_factors=(10, 40, 120)):

    train, test, users = split
    epochs = published.ALS_EPOCHS
    n_combos = int(np.prod([len(v) for v in published.ALS_GRID.values()]))

    # Cost of one dense checkpoint, measured at a few factor counts.
    dense_cost = {}
    for factors in sample_factors:
        model = AlternatingLeastSquares(factors=factors, regularization=0.1, alpha=50, iterations=2,
                                        random_state=0, num_threads=1)
        model.fit(train, show_progress=False)
        _, seconds, _ = _measure(lambda: dense_checkpoint(model, train, test, users))
        dense_cost[factors] = seconds
    print("dense checkpoint cost: " + ", ".join(f"{f} factors {s:.2f} s" for f, s in dense_cost.items()))

    start = time.perf_counter()
    results = grid_search_learning_curve(
        {"random_state": 0}, published.ALS_GRID, train, test, epochs, k=5, user_index=users,
        n_jobs=n_jobs, log_path=log_path,
    )
    wall = time.perf_counter() - start
    seconds = results[results["metric"] == "seconds"]
    last = seconds[seconds["epoch"] == epochs[-1]]
    fit_total = last[last["split"] == "fit"]["value"].sum()
    eval_total = last[last["split"] == "eval"]["value"].sum()
    factor_values = np.array(sorted(dense_cost))
    per_factor = {f: np.interp(f, factor_values, [dense_cost[v] for v in factor_values])
                  for f in published.ALS_GRID["factors"]}
    combos_per_factor = n_combos // len(published.ALS_GRID["factors"])
    dense_eval_total = sum(per_factor[f] * len(epochs) * combos_per_factor for f in per_factor)
    estimated_wall = (fit_total + dense_eval_total) / n_jobs
    rows = [
        ("recasketch (measured)", f"{wall / 60:.1f}", f"{fit_total / 60:.1f}", f"{eval_total / 60:.1f}"),
        ("dense evaluation (estimated)", f"{estimated_wall / 60:.1f}", f"{fit_total / 60:.1f}",
         f"{dense_eval_total / 60:.1f}"),
    ]
    print(f"\nPost 1's grid: {n_combos} combinations x {len(epochs)} checkpoints, {n_jobs} processes")
    print(_table(rows, ["method", "wall min", "fit CPU-min", "eval CPU-min"]))
    print("(the dense estimate interpolates the measured checkpoint cost over factor counts and adds "
          "the same training time; resumed combinations count with the time they took when run)")
    best = results[(results.metric == "p@k") & (results.split == "test")].sort_values("value").iloc[-1]
    where = ", ".join(f"{name} {value:g}" for name, value in best.drop(["metric", "split", "value"]).items())
    print(f"best test p@5 {best['value']:.5f} at {where}")
    return results


#: The small grid ``make bench`` runs on both schedulers, and the larger one of ``make bench-dask``.
DASK_BENCH_GRIDS = {
    "small": ({"factors": [10, 40], "regularization": [0.1, 10.0], "alpha": [10, 50]}, list(range(2, 11, 2))),
    "large": ({"factors": [40], "regularization": [0.1, 1.0], "alpha": [10, 50]}, list(range(2, 39, 2))),
}


def bench_dask(inter, split, grid: str = "small", n_jobs: int | None = None, repeat: int = 1):
    """The same ALS grid on a process pool and on a Dask LocalCluster, alternating; wall times.

    The LocalCluster is timed twice per round: started inside the timing ("cold", as a
    script's first grid) and reused ("warm", as a notebook's later grids). Every run
    computes every combination (no log), and the results are checked equal.
    """
    train, test, users = split
    param_grid, epochs = DASK_BENCH_GRIDS[grid]
    n_jobs = n_jobs or os.cpu_count() or 1
    n_combos = int(np.prod([len(v) for v in param_grid.values()]))
    times = {"process pool": [], "Dask LocalCluster, cold": [], "Dask LocalCluster, warm": []}
    results = {}

    def run(name, scheduler):
        start = time.perf_counter()
        results[name] = grid_search_learning_curve({"random_state": 0}, param_grid, train, test, epochs, k=5,
                                                   user_index=users, n_jobs=n_jobs, progress=False,
                                                   scheduler=scheduler)
        times[name].append(time.perf_counter() - start)

    for _ in range(repeat):
        cluster.close_local()
        run("process pool", cluster.PROCESSES)
        run("Dask LocalCluster, cold", cluster.LOCAL)
        run("Dask LocalCluster, warm", cluster.LOCAL)
    cluster.close_local()
    quality = {name: r[r.metric != "seconds"].reset_index(drop=True) for name, r in results.items()}
    same = all(np.allclose(q["value"], quality["process pool"]["value"], rtol=1e-4, atol=1e-7)
               for q in quality.values())
    pool = statistics.median(times["process pool"])
    rows = [(name, f"{statistics.median(t):.1f}", f"{100 * (statistics.median(t) / pool - 1):+.1f} %")
            for name, t in times.items()]
    print(f"\nALS grid on {n_jobs} worker processes: {n_combos} combinations x {len(epochs)} checkpoints "
          f"(median of {repeat}; same results on both: {same})")
    print(_table(rows, ["scheduler", "wall s", "vs pool"]))
    return times


def _item_features(data_dir: Path, item_ids):
    """Identity ⊕ tags/categories for the likes matrix's items, as post 2 builds them."""
    features = read_features(data_dir / config.FEATURES_FILE)
    return build_item_features(features, item_ids, identity=True).matrix


def bench_warp_checkpoint(inter, split, data_dir: Path, epochs: int = 5, repeat: int = 3):
    """One WARP + tags evaluation checkpoint against ``lightfm.evaluation.precision_at_k``."""

    train, test, users = split
    item_features = _item_features(data_dir, inter.item_ids)
    model = LightFM(loss="warp", no_components=100, random_state=2016)
    start = time.perf_counter()
    model.fit(train.tocoo(), epochs=epochs, item_features=item_features, num_threads=os.cpu_count())
    fit_seconds = time.perf_counter() - start

    def ours():
        return metrics.checkpoint_scores(model, train, test, users=users, k=5, exclude_train="both",
                                         item_features=item_features, mse_scores=False)

    # lightfm scores every user with an interaction: restrict train to the split users.
    keep = np.zeros(train.shape[0], dtype=bool)
    keep[users] = True
    train_split_users = sp.csr_matrix(sp.diags(keep.astype(np.float32)) @ train)
    train_split_users.eliminate_zeros()

    def theirs():
        threads = os.cpu_count()
        return {
            ("p@k", "train"): lightfm_precision(model, train_split_users, k=5, item_features=item_features,
                                                num_threads=threads).mean(),
            ("p@k", "test"): lightfm_precision(model, test, k=5, item_features=item_features,
                                               num_threads=threads).mean(),
            ("p@k", metrics.FILTERED_TEST): lightfm_precision(
                model, test, train_interactions=train, k=5, item_features=item_features,
                num_threads=threads).mean(),
        }

    our_scores, our_t, our_mem = _measure(ours, repeat)
    their_scores, their_t, their_mem = _measure(theirs)
    print(f"\nOne WARP checkpoint with identity + tag features ({item_features.shape[1]:,} features, "
          f"100 components, {epochs} epochs trained in {fit_seconds:.1f} s): train p@5 and test p@5 in "
          f"both protocols, {len(users):,} split users (median of {repeat} runs for recasketch)")
    rows = [("train p@5 + test p@5 (both protocols)", f"{our_t:.3f}", _mb(our_mem), f"{their_t:.3f}",
             _mb(their_mem), f"{their_t / our_t:.0f}x", "lightfm.evaluation.precision_at_k (3 calls)")]
    print(_table(rows, ["measurement", "recasketch s", "peak", "peer s", "peak", "speed-up", "peer"]))
    print("scores: " + ", ".join(f"{split} ours {our_scores['p@k', split]:.5f} vs lightfm "
                                 f"{their_scores['p@k', split]:.5f}" for _, split in their_scores))


def bench_search(inter, split, data_dir: Path, n_calls: int, log_path: Path, num_threads: int):
    """Post 2's first search (no features) for ``n_calls`` calls, resumable from ``log_path``,
    and the projected wall time of the post's 250 + 50 calls."""

    train, test, users = split
    objective = LightFMObjective(train, test, users, k=5, num_threads=num_threads)
    result = resumable_search(objective, published.WARP_SEARCH["space"], n_calls, log_path=log_path,
                              random_state=0)
    calls = result.calls
    per_epoch = calls["seconds"] / calls["epochs"]
    print(f"\nPost 2's search without features: {len(calls)} calls ({result.n_resumed} read back from its log "
          f"in {Path(log_path).parent}/), {result.n_failed} failed, LightFM num_threads={num_threads}")
    print(f"mean {calls['seconds'].mean():.1f} s per call (median {calls['seconds'].median():.1f} s), "
          f"mean epochs {calls['epochs'].mean():.0f}, {per_epoch.median():.2f} s per epoch (median)")
    best = result.best
    print("best: " + ", ".join(f"{name} {best[name]:.4g}" for name in published.WARP_SEARCH["space"])
          + f" -> test p@5 {best['p@k']:.5f} (train removed: {best['p@k filtered']:.5f})")

    # What one epoch costs with identity + tags, relative to none, at the post's best point.
    item_features = _item_features(data_dir, inter.item_ids)
    cost = {}
    for name, features in (("none", None), ("identity + tags", item_features)):
        model = LightFM(loss="warp", no_components=100, random_state=2016)
        start = time.perf_counter()
        model.fit(train.tocoo(), epochs=3, item_features=features, num_threads=num_threads)
        cost[name] = (time.perf_counter() - start) / 3
    ratio = cost["identity + tags"] / cost["none"]
    first = published.WARP_SEARCH["calls"] * calls["seconds"].mean()
    second = published.WARP_SIDE_INFO_SEARCH["calls"] * calls["seconds"].mean() * ratio
    print(f"one epoch, 100 components: {cost['none']:.2f} s without features, "
          f"{cost['identity + tags']:.2f} s with identity + tags ({ratio:.1f}x)")
    print(f"projected wall time of post 2's searches on this machine: {published.WARP_SEARCH['calls']} calls "
          f"{first / 3600:.1f} h + {published.WARP_SIDE_INFO_SEARCH['calls']} calls with features "
          f"{second / 3600:.1f} h = {(first + second) / 3600:.1f} h")
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="recasketch benchmarks on the full synthetic preset")
    parser.add_argument("what", nargs="?", choices=["steps", "grid", "search", "dask"], default="steps")
    parser.add_argument("--data-dir", type=Path, default=config.SYNTHETIC_FULL_DIR)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count(),
                        help="grid processes, or LightFM threads for the search")
    parser.add_argument("--log", type=Path, default=None,
                        help="grid or search log; rerunning resumes from it")
    parser.add_argument("--calls", type=int, default=30, help="search calls (default: 30)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of `dask` (default: 2)")
    args = parser.parse_args(argv)

    print(f"machine: {_machine()}; data: full synthetic preset (SYNTHETIC, not the real crawl)")
    data_dir = ensure_full_dataset(args.data_dir)
    inter, split = bench_preprocessing(data_dir)
    bench_dir = config.RESULTS_DIR / "bench"
    if args.what == "steps":
        bench_checkpoint(inter, split)
        bench_warp_checkpoint(inter, split, data_dir)
        bench_dask(inter, split, "small")
    elif args.what == "dask":
        bench_dask(inter, split, "large", args.n_jobs, args.repeat)
    elif args.what == "grid":
        bench_grid(inter, split, args.n_jobs, args.log or bench_dir / "als_grid_full-{key}.jsonl")
    else:
        bench_search(inter, split, data_dir, args.calls, args.log or bench_dir / "warp_search_full-{key}.jsonl",
                     args.n_jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
