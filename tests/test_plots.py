import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from recasketch.display.plots import (plot_grid_heatmaps, plot_grid_traces, plot_learning_curve, plot_scores)  # noqa: E402


def fake_results():
    rows = []
    for factors in (10, 40):
        for reg in (0.1, 1.0):
            for alpha in (1, 50):
                for epoch in (2, 4):
                    score = factors / 1000 + alpha / 10_000 + epoch / 100_000 - reg / 100
                    for split, value in (("train", 2 * score), ("test", score)):
                        rows.append((factors, reg, alpha, epoch, "p@k", split, value))
                        rows.append((factors, reg, alpha, epoch, "mse", split, 0.01 + reg / 1000))
    return pd.DataFrame(rows, columns=["factors", "regularization", "alpha", "epoch", "metric", "split", "value"])


def test_learning_curve_plot_has_both_panels_and_reference():
    curve = fake_results().query("factors == 10 and regularization == 0.1 and alpha == 1")
    fig = plot_learning_curve(curve.drop(columns=["factors", "regularization", "alpha"]),
                              reference={("p@k", "test"): (22, 0.0476, "post 1")})
    left, right = fig.axes
    assert len(left.lines) == 2 and len(right.lines) == 2
    assert "post 1" in [t.get_text() for t in left.get_legend().get_texts()]
    plt.close(fig)
    with pytest.raises(ValueError, match="no 'p@k' rows"):
        plot_learning_curve(curve[curve.metric == "mse"])


def test_learning_curve_plot_without_mse_has_one_panel_with_the_filtered_line():
    from recasketch.metrics import FILTERED_TEST

    curve = fake_results().query("factors == 10 and regularization == 0.1 and alpha == 1")
    curve = curve[curve.metric == "p@k"].drop(columns=["factors", "regularization", "alpha"])
    filtered = curve[curve.split == "test"].assign(split=FILTERED_TEST, value=lambda d: 2 * d.value)
    fig = plot_learning_curve(pd.concat([curve, filtered]))
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["train", "test", FILTERED_TEST]
    plt.close(fig)


def test_grid_traces_draw_one_line_per_combination_best_on_top():
    ax = plot_grid_traces(fake_results(), highlight=1)
    assert len(ax.lines) == 8
    best = ax.lines[-1]
    assert best.get_label() == "factors=40, regularization=0.1, alpha=50"
    assert best.get_alpha() == pytest.approx(1.0)
    plt.close(ax.figure)


def test_heatmaps_show_best_value_per_cell():
    results = fake_results()
    fig = plot_grid_heatmaps(results)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["factors = 10", "factors = 40"]
    mesh = fig.axes[1].collections[0]
    expected = (results.query("metric == 'p@k' and split == 'test' and factors == 40")
                .groupby(["regularization", "alpha"]).value.max().unstack())
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(2, 2), expected.to_numpy())
    plt.close(fig)
    with pytest.raises(ValueError, match="no parameter column 'k'"):
        plot_grid_heatmaps(results, facet="k")


def test_score_bars_are_labelled():
    scores = pd.DataFrame({"model": ["pop", "pop", "als", "als"], "protocol": ["a", "b", "a", "b"],
                           "value": [0.1, 0.2, 0.3, 0.4]})
    ax = plot_scores(scores)
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["0.100", "0.200", "0.300", "0.400"]
    plt.close(ax.figure)


def test_save_figure(tmp_path):
    from recasketch.display.plots import save_figure

    fig, _ = plt.subplots()
    assert save_figure(fig, "x", None) is None
    path = save_figure(fig, "x", tmp_path / "out")
    assert path.exists() and path.read_bytes()[:4] == b"\x89PNG"
    plt.close(fig)


def test_learning_curve_plot_draws_a_published_curve_as_a_dashed_line():
    curve = fake_results().query("factors == 10 and regularization == 0.1 and alpha == 1")
    curve = curve[curve.metric == "p@k"].drop(columns=["factors", "regularization", "alpha"])
    fig = plot_learning_curve(curve, reference={("p@k", "test"): ({10: 0.025, 90: 0.034}, "post 2")})
    (ax,) = fig.axes
    post = [line for line in ax.lines if line.get_label() == "post 2"]
    assert len(post) == 1 and post[0].get_linestyle() == "--"
    assert list(post[0].get_xdata()) == [10, 90] and list(post[0].get_ydata()) == [0.025, 0.034]
    plt.close(fig)


def test_model_comparison_shows_scores_and_one_time_bar_per_model():
    from recasketch.display.plots import plot_model_comparison

    table = pd.DataFrame({"model": ["pop", "pop", "warp", "warp"], "protocol": ["a", "b", "a", "b"],
                          "mean": [0.1, 0.2, 0.3, 0.4], "low": [0.05, 0.15, 0.25, 0.35],
                          "high": [0.15, 0.25, 0.35, 0.45], "fit seconds": [0.01, 0.01, 2.0, 2.0]})
    fig = plot_model_comparison(table)
    scores, seconds = fig.axes
    assert sorted(t.get_text() for t in scores.texts) == ["0.100", "0.200", "0.300", "0.400"]
    # one interval line per bar, through its middle
    lines = sorted((line.get_xdata()[0], *line.get_ydata()) for line in scores.lines)
    bars = sorted((bar.get_x() + bar.get_width() / 2, bar.get_height()) for c in scores.containers for bar in c)
    np.testing.assert_allclose(lines, [(x, h - 0.05, h + 0.05) for x, h in bars])
    assert [t.get_text() for t in seconds.texts] == ["0.01 s", "2 s"]
    plt.close(fig)
    with pytest.raises(ValueError, match="fit seconds"):
        plot_model_comparison(table.drop(columns="fit seconds"))


def test_intervals_draw_one_point_and_bar_per_model_and_protocol():
    from recasketch.display.plots import plot_intervals

    table = pd.DataFrame({"model": ["a", "a", "b", "b"] * 2, "protocol": ["x", "y"] * 4,
                          "metric": ["p@5"] * 4 + ["AUC"] * 4, "mean": np.linspace(0.1, 0.8, 8)})
    table["low"], table["high"] = table["mean"] - 0.02, table["mean"] + 0.03
    fig = plot_intervals(table, metrics=["AUC"])
    (ax,) = fig.axes
    assert ax.get_title() == "AUC"
    points = np.concatenate([np.asarray(line.get_xdata(), dtype=float) for line in ax.lines
                             if line.get_marker() == "o"])
    np.testing.assert_allclose(np.sort(points), np.sort(table[table.metric == "AUC"]["mean"].to_numpy()))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="lacks the columns"):
        plot_intervals(table.drop(columns="low"))
    plt.close("all")


def test_best_so_far_draws_a_step_line_per_strategy():
    from recasketch.display.plots import plot_best_so_far

    curves = pd.DataFrame({"strategy": ["r", "r", "f", "f", "f"], "elapsed": [1, 5, 2, 3, 5],
                           "best_so_far": [0.1, 0.1, 0.05, 0.2, 0.2]})
    fig = plot_best_so_far(curves)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["r", "f"]
    assert ax.lines[0].get_drawstyle() == "steps-post"
    with pytest.raises(ValueError, match="lack the columns"):
        plot_best_so_far(curves.drop(columns="elapsed"))
    plt.close("all")


def test_growth_draws_each_engine_and_projects_growing_memory_to_the_machine():
    from recasketch.display.plots import plot_growth
    from recasketch.study.scaling import fit_growth

    growth = pd.DataFrame({"engine": ["a"] * 3 + ["b"] * 3, "likes": [1e3, 4e3, 16e3] * 2,
                           "seconds per iteration": [0.01, 0.04, 0.16, 1.0, 1.0, 1.0],
                           "peak MB": [1.0, 2.5, 8.5, 400.0, 390.0, 395.0]})
    memory = 2**30
    fig = plot_growth(growth, fit_growth(growth, memory_bytes=memory), memory)
    time_ax, memory_ax = fig.axes
    assert [line.get_label() for line in time_ax.lines] == ["a", "b"]
    projected = [line for line in memory_ax.lines if line.get_linestyle() == "--"]
    assert len(projected) == 1 and projected[0].get_label().startswith("a, projected")  # b does not grow
    assert projected[0].get_ydata()[-1] == pytest.approx(1024.0)  # it ends at this machine's memory
    assert any(list(line.get_ydata()) == [1024.0, 1024.0] for line in memory_ax.lines)
    plt.close(fig)
    with pytest.raises(ValueError, match="peak MB"):
        plot_growth(growth.drop(columns="peak MB"), fit_growth(growth, memory_bytes=memory), memory)
