"""The figures the notebooks show.

Every function takes the tidy frames that :mod:`recasketch.tuning` returns
(``epoch``, ``metric``, ``split``, ``value`` plus parameter columns), draws on
matplotlib axes (new ones unless ``ax`` is given) and returns the figure or axes,
so a notebook cell is one call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..metrics import FILTERED_TEST
from ..tuning.grid import param_columns

__all__ = ["plot_grid_heatmaps", "plot_grid_traces", "plot_growth", "plot_learning_curve", "plot_best_so_far",
           "plot_intervals", "plot_model_comparison", "plot_scores", "save_figure"]

_SPLIT_COLORS = {"train": "tab:blue", "test": "tab:orange", FILTERED_TEST: "tab:green"}
_METRIC_LABELS = {"p@k": "precision@{k}", "mse": "MSE"}


def _label(metric: str, k: int) -> str:
    return _METRIC_LABELS.get(metric, metric).format(k=k)


def plot_learning_curve(curve: pd.DataFrame, k: int = 5, reference: Mapping | None = None,
                        title: str | None = None):
    """Train and test precision@k and MSE against epochs, side by side.

    The MSE panel is left out when the curve has no MSE rows (``mse_scores=False``),
    and a train-filtered test precision (``exclude_train="both"``) is drawn as a third
    line.

    Parameters
    ----------
    curve : pandas.DataFrame
        One learning curve (from :func:`recasketch.tuning.curves.learning_curve`, or the
        rows of one combination of a grid).
    k : int, default=5
        For the axis label.
    reference : mapping, default=None
        Figures to mark for comparison, keyed by ``(metric, split)`` with values
        ``(epoch, value)`` or ``(epoch, value, label)``, e.g. the post's
        ``{("p@k", "test"): (22, 0.04761, "post 1, real crawl")}``; or a published
        curve ``({epoch: value, ...}, label)``, drawn dashed.
    title : str, default=None

    Returns
    -------
    matplotlib.figure.Figure
    """
    metrics_shown = [m for m in ("p@k", "mse") if (curve["metric"] == m).any()]
    if "p@k" not in metrics_shown:
        raise ValueError("The curve has no 'p@k' rows; pass a learning_curve result.")
    fig, axes = plt.subplots(1, len(metrics_shown), figsize=(5.5 * len(metrics_shown) + 0.5, 4),
                             constrained_layout=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics_shown):
        part = curve[curve["metric"] == metric]
        for split, rows in part.groupby("split", sort=False):
            ax.plot(rows["epoch"], rows["value"], marker="o", ms=3, label=split,
                    color=_SPLIT_COLORS.get(split))
        for (ref_metric, split), spec in (reference or {}).items():
            if ref_metric != metric:
                continue
            if isinstance(spec[0], Mapping):  # a published curve: {epoch: value}
                points, label = spec[0], spec[1] if len(spec) > 1 else f"{split}, reference"
                ax.plot(list(points), list(points.values()), linestyle="--", marker="*", ms=11,
                        mec="black", zorder=5, color=_SPLIT_COLORS.get(split, "grey"), label=label)
                continue
            epoch, value, *label = spec
            ax.scatter([epoch], [value], marker="*", s=160, zorder=5, edgecolor="black",
                       color=_SPLIT_COLORS.get(split, "grey"),
                       label=label[0] if label else f"{split}, reference")
        ax.set_xlabel("epoch")
        ax.set_ylabel(_label(metric, k))
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def plot_grid_traces(results: pd.DataFrame, metric: str = "p@k", split: str = "test", k: int = 5,
                     highlight: int = 5, ax=None):
    """Every combination's learning curve on one axes, faded by rank.

    The best combination (by its best value over epochs) is drawn darkest; the
    ``highlight`` best are labelled with their parameters.

    Returns
    -------
    matplotlib.axes.Axes
    """
    params = param_columns(results)
    part = results[(results["metric"] == metric) & (results["split"] == split)]
    if part.empty:
        raise ValueError(f"No rows with metric={metric!r} and split={split!r}.")
    best = part.groupby(params, dropna=False)["value"].agg("min" if metric == "mse" else "max")
    order = best.sort_values(ascending=(metric == "mse")).index
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    n = len(order)
    cmap = plt.get_cmap("viridis_r")
    for rank in range(n - 1, -1, -1):  # worst first, so the best ends on top
        key = order[rank]
        key = key if isinstance(key, tuple) else (key,)
        rows = part
        for name, value in zip(params, key):
            rows = rows[rows[name] == value]
        strength = 1.0 - rank / max(n, 1)
        label = ", ".join(f"{p}={v:g}" if isinstance(v, float) else f"{p}={v}"
                          for p, v in zip(params, key)) if rank < highlight else None
        ax.plot(rows["epoch"], rows["value"], color=cmap(strength), alpha=0.15 + 0.85 * strength**3,
                lw=2.0 if rank == 0 else 1.0, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{split} {_label(metric, k)}")
    ax.set_title(f"{n} combinations, darker = better")
    ax.grid(alpha=0.3)
    if highlight:
        ax.legend(fontsize="small", frameon=False, loc="best")
    return ax


def plot_grid_heatmaps(results: pd.DataFrame, rows: str = "regularization", cols: str = "alpha",
                       facet: str = "factors", metric: str = "p@k", split: str = "test", k: int = 5):
    """Heat maps of the best ``metric`` over epochs, ``rows`` x ``cols``, one per ``facet`` value.

    Returns
    -------
    matplotlib.figure.Figure
    """
    part = results[(results["metric"] == metric) & (results["split"] == split)]
    for name in (rows, cols, facet):
        if name not in part.columns:
            raise ValueError(f"The results have no parameter column {name!r}.")
    best = part.groupby([facet, rows, cols])["value"].agg("min" if metric == "mse" else "max").reset_index()
    facets = sorted(best[facet].unique())
    vmin, vmax = best["value"].min(), best["value"].max()
    ncols = min(3, len(facets))
    nrows = -(-len(facets) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.9 * ncols + 1, 3.5 * nrows),
                             constrained_layout=True, squeeze=False)
    flat = axes.ravel()
    for i, (ax, value) in enumerate(zip(flat, facets)):
        table = best[best[facet] == value].pivot(index=rows, columns=cols, values="value")
        sns.heatmap(table, ax=ax, vmin=vmin, vmax=vmax, cmap="viridis", annot=len(table.columns) <= 6,
                    fmt=".3f", annot_kws={"fontsize": 7}, cbar=False)
        ax.set_title(f"{facet} = {value}")
        if i % ncols:
            ax.set_ylabel("")
    for ax in flat[len(facets):]:
        ax.set_visible(False)
    fig.colorbar(flat[0].collections[0], ax=list(flat[:len(facets)]),
                 label=f"best {split} {_label(metric, k)}", shrink=0.9)
    return fig


def plot_scores(scores: pd.DataFrame, x: str = "model", hue: str = "protocol", y: str = "value", ax=None):
    """A bar chart of scores, e.g. models x evaluation protocols, values written on the bars.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
    sns.barplot(data=scores, x=x, y=y, hue=hue, errorbar=None, ax=ax)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.3f", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_model_comparison(table: pd.DataFrame, k: int = 5, title: str | None = None):
    """Test precision@k of several models in each protocol, beside their training time.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (model, protocol) with ``mean``, ``low``, ``high`` (its interval, drawn
        as a line through the bar) and ``fit seconds``, as
        :func:`recasketch.study.posts.compare_models` returns it.
    k : int, default=5
        For the axis label.
    title : str, default=None

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = {"model", "protocol", "mean", "low", "high", "fit seconds"} - set(table.columns)
    if missing:
        raise ValueError(f"The table lacks the columns {sorted(missing)}; pass compare_models' result.")
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=(2.2, 1),
                                      constrained_layout=True)
    plot_scores(table, x="model", hue="protocol", y="mean", ax=left)
    for container, (_, rows) in zip(left.containers, table.groupby("protocol", sort=False)):
        for bar, (_, row) in zip(container, rows.iterrows()):
            middle = bar.get_x() + bar.get_width() / 2
            left.plot([middle, middle], [row["low"], row["high"]], color="black", linewidth=1)
    left.set_ylim(0, 1.3 * table["high"].max())  # room for the legend above the bars
    sns.move_legend(left, "upper left", ncol=2, frameon=False, title=None)
    left.set_ylabel(f"test precision@{k}")
    left.set_xlabel("")
    left.tick_params(axis="x", labelrotation=15)
    seconds = table.drop_duplicates("model")
    sns.barplot(data=seconds, y="model", x="fit seconds", ax=right, color="tab:grey")
    right.bar_label(right.containers[0], fmt="%.3g s", fontsize=8)
    right.set_xscale("log")
    right.set_ylabel("")
    right.set_xlabel("training seconds (log scale)")
    right.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def plot_intervals(table: pd.DataFrame, metrics=None, title: str | None = None, sharex: bool = False):
    """Points with confidence-interval bars: one panel per metric, models down, a colour per protocol.

    Parameters
    ----------
    table : pandas.DataFrame
        Long table with ``model``, ``metric``, ``mean``, ``low``, ``high`` and optionally
        ``protocol``, as :func:`recasketch.study.evaluation.evaluate` returns it.
    metrics : list of str, default=None
        The metrics to draw, one panel each; ``None`` draws every metric in the table.
    title : str, default=None
    sharex : bool, default=False
        Share the value axis between panels (for metrics on one scale).

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = {"model", "metric", "mean", "low", "high"} - set(table.columns)
    if missing:
        raise ValueError(f"The table lacks the columns {sorted(missing)}; pass study.evaluate's result.")
    metrics = list(pd.unique(table["metric"])) if metrics is None else list(metrics)
    if not metrics:
        raise ValueError("Nothing to draw: no metric given.")
    models = list(pd.unique(table["model"]))
    protocols = list(pd.unique(table["protocol"])) if "protocol" in table else [None]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.4 * len(metrics) + 1.5, 0.45 * len(models) + 1.6),
                             sharey=True, sharex=sharex, constrained_layout=True, squeeze=False)
    offsets = np.linspace(-0.15, 0.15, len(protocols)) if len(protocols) > 1 else [0.0]
    colours = sns.color_palette("colorblind", len(protocols))
    for ax, metric in zip(axes[0], metrics):
        part = table[table["metric"] == metric]
        for protocol, offset, colour in zip(protocols, offsets, colours):
            rows = part if protocol is None else part[part["protocol"] == protocol]
            y = np.array([models.index(m) for m in rows["model"]]) + offset
            ax.errorbar(rows["mean"], y, xerr=[rows["mean"] - rows["low"], rows["high"] - rows["mean"]],
                        fmt="o", ms=4, capsize=2, color=colour, label=protocol)
        ax.set_title(metric)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(range(len(models)), models)
    axes[0][0].invert_yaxis()
    if protocols != [None]:
        fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=len(protocols),
                   frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_growth(growth: pd.DataFrame, fitted: pd.DataFrame, memory_bytes: int, title: str | None = None):
    """Time and memory of each engine against the likes, with memory projected to this machine's.

    Parameters
    ----------
    growth : pandas.DataFrame
        One row per (size, engine) with ``engine``, ``likes``, ``seconds per iteration``
        and ``peak MB``, as :func:`recasketch.study.scaling.growth_table` returns it.
    fitted : pandas.DataFrame
        :func:`recasketch.study.scaling.fit_growth` of ``growth`` (indexed by engine): an
        engine whose memory grows with the likes gets a dashed line, its fitted
        ``fixed MB + bytes per like * likes``, drawn out to where it meets ``memory_bytes``.
    memory_bytes : int
        This machine's memory, drawn as a horizontal line.
    title : str, default=None

    Returns
    -------
    matplotlib.figure.Figure
        Two log-log panels: seconds per iteration, and peak memory.
    """
    missing = {"engine", "likes", "seconds per iteration", "peak MB"} - set(growth.columns)
    if missing:
        raise ValueError(f"The growth table lacks the columns {sorted(missing)}; pass growth_table's result.")
    fig, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    memory_mb = memory_bytes / 2**20
    for engine, part in growth.groupby("engine", sort=False):
        time_ax.plot(part["likes"], part["seconds per iteration"], "o-", label=engine)
        colour = time_ax.lines[-1].get_color()
        memory_ax.plot(part["likes"], part["peak MB"], "o-", color=colour, label=engine)
        row = fitted.loc[engine] if engine in fitted.index else None
        if row is not None and row["bytes per like"] > 0 and np.isfinite(row["likes at memory limit"]):
            likes = np.geomspace(part["likes"].min(), row["likes at memory limit"], 50)
            projected = row["fixed MB"] + row["bytes per like"] * likes / 2**20
            memory_ax.plot(likes, projected, "--", color=colour,
                           label=f"{engine}, projected: {row['likes at memory limit']:,.3g} likes")
    memory_ax.axhline(memory_mb, color="black", linewidth=1)
    memory_ax.annotate(f"this machine: {memory_bytes / 2**30:.0f} GiB", (0.02, memory_mb), va="bottom",
                       xycoords=("axes fraction", "data"), fontsize=8)
    for ax, label in ((time_ax, "seconds per iteration"), (memory_ax, "peak memory (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("likes")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_best_so_far(curves: pd.DataFrame, title: str | None = None, ax=None):
    """Best validation score so far against elapsed seconds, one step line per strategy.

    Parameters
    ----------
    curves : pandas.DataFrame
        Columns ``strategy``, ``elapsed`` and ``best_so_far``, as
        :func:`recasketch.tuning.strategies.best_so_far_curve` returns them.
    title : str, default=None
    ax : matplotlib.axes.Axes, default=None

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = {"strategy", "elapsed", "best_so_far"} - set(curves.columns)
    if missing:
        raise ValueError(f"The curves lack the columns {sorted(missing)}; pass best_so_far_curve's result.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
    for strategy, part in curves.groupby("strategy", sort=False):
        ax.step(part["elapsed"], part["best_so_far"], where="post", label=strategy)
        ax.plot(part["elapsed"].iloc[:-1], part["best_so_far"].iloc[:-1], "o", ms=3,
                color=ax.lines[-1].get_color())
    ax.set_xlabel("seconds")
    ax.set_ylabel("best validation p@5 so far")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax.figure


def save_figure(fig, name: str, directory=None, dpi: int = 120):
    """Save ``fig`` as ``<directory>/<name>.png``; do nothing when ``directory`` is None.

    Notebooks call it after each figure with their results folder, which is ``None``
    on quick runs. Returns the path written, or ``None``.
    """
    if directory is None:
        return None
    path = Path(directory) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path
