"""Batched ask/tell searches on a 2-worker LocalCluster: reproducible, logged in
resumable_search's format, failed fits logged as failed, nothing lost to a killed worker,
and resumed from the log after an interruption on the client."""

import json
import os
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from recasketch.tuning import search_log
from recasketch.tuning.batched import batched_search
from recasketch.tuning.objectives import LightFMObjective
from recasketch.tuning.search import read_search_log, resumable_search
from recasketch.tuning.search_log import WORST_VALUE, FitFailed
from workers import kill_on_mark


SPACE = {"epochs": (1, 12), "learning_rate": (1e-3, 0.5, "log-uniform"), "no_components": (2, 10)}


class MarkedObjective(LightFMObjective):
    """LightFM's objective leaving a file per call in ``marker_dir``; with ``slow``, the first
    call waits to be killed, having written its process id to ``killme``; calls with more
    than ``fail_above`` components fail as a diverged fit would."""

    marker_dir = None
    slow = False
    fail_above = None
    sleep_at = {}  # learning rate -> seconds the call sleeps first

    def __call__(self, point):
        name = uuid.uuid4().hex
        (Path(self.marker_dir) / f"call-{name}").write_text(json.dumps(point, default=float))
        (Path(self.marker_dir) / f"start-{name}").write_text(json.dumps([point, time.time()], default=float))
        time.sleep(self.sleep_at.get(point["learning_rate"], 0))
        if self.slow:
            pid_file = Path(self.marker_dir) / "killme"
            if not pid_file.exists():
                pid_file.write_text(str(os.getpid()))
                time.sleep(120)
        if self.fail_above is not None and point["no_components"] > self.fail_above:
            raise FitFailed("the fit diverged: simulated")
        scores = super().__call__(point)
        (Path(self.marker_dir) / f"end-{name}").write_text(json.dumps([point, time.time()], default=float))
        return scores


def timeline(marker_dir) -> list:
    """Each evaluation's learning rate and its (start, end) wall times."""
    folder = Path(marker_dir)
    out = []
    for start_file in folder.glob("start-*"):
        point, start = json.loads(start_file.read_text())
        end = json.loads((folder / start_file.name.replace("start-", "end-")).read_text())[1]
        out.append((point["learning_rate"], start, end))
    return out


def objective(split, marker_dir, **attrs):
    train, test, users = split
    obj = MarkedObjective(train, test, users, random_state=0)
    obj.marker_dir = str(marker_dir)
    for name, value in attrs.items():
        setattr(obj, name, value)
    return obj


def evaluations(marker_dir) -> int:
    return len(list(Path(marker_dir).glob("call-*")))


def points(calls: pd.DataFrame) -> list:
    return sorted(map(tuple, calls[list(SPACE)].to_numpy().tolist()))


def check_log(log: Path, calls: pd.DataFrame):
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["log"] == "search" and "space" in lines[0]["key"]
    assert [r["call"] for r in lines[1:]] == list(range(len(calls)))  # each call once, numbered in order
    pd.testing.assert_frame_equal(read_search_log(log, SPACE), calls)


def test_a_batched_search_is_reproducible_and_logs_like_the_serial_one(split, client, tmp_path):
    log = tmp_path / "search.jsonl"
    obj = objective(split, tmp_path)
    first = batched_search(obj, SPACE, 10, log_path=log, n_initial_points=4, n_points=2, scheduler=client,
                           random_state=3, progress=False)
    again = batched_search(obj, SPACE, 10, n_initial_points=4, n_points=2, scheduler=client, random_state=3,
                           progress=False)
    assert len(first.calls) == 10 and first.n_resumed == 0 and first.n_failed == 0
    assert points(first.calls) == points(again.calls)  # the same proposals, in whatever order they finished
    assert len(set(points(first.calls))) > 1
    check_log(log, first.calls)
    assert list(first.calls.columns) == ["call", "origin", *SPACE, "p@k", "p@k filtered", "objective", "seconds",
                                         "status", "reason"]
    assert (first.calls["objective"] == -first.calls["p@k"]).all()
    assert first.best["p@k"] == first.calls["p@k"].max()
    assert len(first.optimize_result.x_iters) == 10
    # each point scores what the serial objective gives it
    row = first.calls.iloc[-1]
    assert row["p@k"] == obj({name: row[name] for name in SPACE})["p@k"]
    # the serial search extends a batched log, and the other way round
    serial = resumable_search(obj, SPACE, 12, log_path=log, n_initial_points=4, random_state=3, progress=False)
    assert serial.n_resumed == 10 and len(serial.calls) == 12
    more = batched_search(obj, SPACE, 14, log_path=log, n_initial_points=4, n_points=2, scheduler=client,
                          random_state=3, progress=False)
    assert more.n_resumed == 12 and len(more.calls) == 14
    check_log(log, more.calls)


def test_x0_points_are_run_first_and_marked(split, client, tmp_path):
    start = {"epochs": 5, "learning_rate": 0.05, "no_components": 4}
    result = batched_search(objective(split, tmp_path), SPACE, 5, x0=[start], n_initial_points=2, n_points=2,
                            scheduler=client, random_state=0, progress=False)
    x0_rows = result.calls[result.calls.origin == "x0"]
    assert len(x0_rows) == 1 and x0_rows[list(SPACE)].iloc[0].to_dict() == start
    assert (result.calls.origin == "search").sum() == 4


@pytest.mark.parametrize("pipelined", [False, True], ids=["batches", "pipelined"])
def test_diverged_fits_are_logged_as_failed(pipelined, split, client, tmp_path):
    log = tmp_path / "search.jsonl"
    result = batched_search(objective(split, tmp_path, fail_above=5), SPACE, 8, log_path=log, n_initial_points=4,
                            n_points=2, scheduler=client, random_state=1, progress=False, pipelined=pipelined)
    failed = result.calls[result.calls.no_components > 5]
    assert len(failed) >= 1 and result.n_failed == len(failed)
    assert (failed.status == "failed").all() and (failed.objective == WORST_VALUE).all()
    assert failed.reason.str.contains("simulated").all() and failed["p@k"].isna().all()
    assert (result.calls[result.calls.no_components <= 5].status == "ok").all()
    check_log(log, result.calls)


@pytest.mark.parametrize("pipelined", [False, True], ids=["batches", "pipelined"])
def test_a_worker_killed_mid_search_loses_nothing(pipelined, split, client, tmp_path):
    pids = set(client.run(os.getpid).values())
    killer, killed = kill_on_mark(tmp_path / "killme")
    log = tmp_path / "search.jsonl"
    result = batched_search(objective(split, tmp_path, slow=True), SPACE, 6, log_path=log, n_initial_points=4,
                            n_points=2, scheduler=client, random_state=5, progress=False, pipelined=pipelined)
    killer.join()
    assert killed["pid"] in pids
    assert len(result.calls) == 6 and result.n_failed == 0
    check_log(log, result.calls)
    assert evaluations(tmp_path) >= 7  # the killed call ran again elsewhere
    (tmp_path / "unkilled").mkdir()
    unkilled = batched_search(objective(split, tmp_path / "unkilled"), SPACE, 6, n_initial_points=4,
                              n_points=2, scheduler=client, random_state=5, progress=False, pipelined=pipelined)
    assert points(unkilled.calls) == points(result.calls)


@pytest.mark.parametrize("pipelined", [False, True], ids=["batches", "pipelined"])
def test_a_search_interrupted_on_the_client_resumes_from_its_log(pipelined, split, client, tmp_path, monkeypatch):
    log = tmp_path / "search.jsonl"
    obj = objective(split, tmp_path)
    append = search_log.append_record

    def interrupt_after_three_calls(path, record):
        append(path, record)
        if record.get("call") == 2:
            raise KeyboardInterrupt("Ctrl-C on the client")

    monkeypatch.setattr(search_log, "append_record", interrupt_after_three_calls)
    with pytest.raises(KeyboardInterrupt):
        batched_search(obj, SPACE, 8, log_path=log, n_initial_points=4, n_points=2, scheduler=client,
                       random_state=2, progress=False, pipelined=pipelined)
    monkeypatch.setattr(search_log, "append_record", append)
    logged = read_search_log(log, SPACE)
    assert len(logged) == 3
    time.sleep(0.5)  # a cancelled call that had started may still finish on its worker
    before = evaluations(tmp_path)

    resumed = batched_search(obj, SPACE, 8, log_path=log, n_initial_points=4, n_points=2, scheduler=client,
                             random_state=2, progress=False, pipelined=pipelined)
    assert resumed.n_resumed == 3 and len(resumed.calls) == 8
    assert evaluations(tmp_path) - before == 5  # only the missing calls ran
    pd.testing.assert_frame_equal(resumed.calls.iloc[:3], logged)
    check_log(log, resumed.calls)
    if not pipelined:  # the batches replayed from the log: the points an uninterrupted search proposes
        (tmp_path / "whole").mkdir()
        whole = batched_search(objective(split, tmp_path / "whole"), SPACE, 8, n_initial_points=4, n_points=2,
                               scheduler=client, random_state=2, progress=False)
        assert points(resumed.calls) == points(whole.calls)
        assert resumed.optimize_result.x_iters == whole.optimize_result.x_iters


def test_a_batch_is_told_in_the_order_it_was_proposed(split, client, tmp_path):
    # the first point of the first batch is slow, so it finishes second: the optimizer still hears it first
    slow, quick = 0.0123, 0.0456
    x0 = [{"epochs": 4, "learning_rate": slow, "no_components": 4},
          {"epochs": 3, "learning_rate": quick, "no_components": 4}]
    runs = {}
    for name, sleep in [("slow first", {slow: 2.0}), ("nothing slow", {})]:
        (tmp_path / name).mkdir()
        runs[name] = batched_search(objective(split, tmp_path / name, sleep_at=sleep), SPACE, 6, x0=x0,
                                    n_initial_points=2, n_points=2, scheduler=client, random_state=4, progress=False)
    first = runs["slow first"]
    assert first.calls["learning_rate"].iloc[:2].tolist() == [quick, slow]  # the log: in the order they finished
    assert [x[1] for x in first.optimize_result.x_iters[:2]] == [slow, quick]  # told: in the order proposed
    assert first.optimize_result.x_iters == runs["nothing slow"].optimize_result.x_iters


def test_guards(split, client):
    obj = objective(split, "/nonexistent")
    with pytest.raises(ValueError, match="Unknown strategy 'cl_median'"):
        batched_search(obj, SPACE, 5, strategy="cl_median", scheduler=client)
    with pytest.raises(ValueError, match="n_points must be an integer >= 1"):
        batched_search(obj, SPACE, 5, n_initial_points=2, n_points=0, scheduler=client)
    with pytest.raises(ValueError, match="leaves no room"):
        batched_search(obj, SPACE, 3, n_initial_points=4, scheduler=client)
    with pytest.raises(ValueError, match="Give x0 or n_initial_points >= 1"):
        batched_search(obj, SPACE, 3, n_initial_points=0, scheduler=client)



def test_a_gaussian_process_surrogate_with_lbfgs_proposes_inside_the_space(split, client, tmp_path):
    log = tmp_path / "search.jsonl"
    result = batched_search(objective(split, tmp_path), SPACE, 8, log_path=log, n_initial_points=4, n_points=2,
                            base_estimator="GP", acq_optimizer="lbfgs", scheduler=client, random_state=0,
                            progress=False)
    proposed = result.calls[result.calls.call >= 4]  # the surrogate's, after the random start
    assert len(result.calls) == 8 and len(proposed) == 4 and result.n_failed == 0
    assert proposed.epochs.between(1, 12).all() and proposed.no_components.between(2, 10).all()
    assert proposed.learning_rate.between(1e-3, 0.5).all()
    assert len(set(points(result.calls))) == 8
    check_log(log, result.calls)
    # skopt takes lbfgs only with a Gaussian process; the refusal leaves no log behind
    other = tmp_path / "refused.jsonl"
    with pytest.raises(ValueError, match="acq_optimizer='sampling'"):
        batched_search(objective(split, tmp_path), SPACE, 8, log_path=other, n_initial_points=4,
                       base_estimator="ET", acq_optimizer="lbfgs", scheduler=client, progress=False)
    assert not other.exists()

def test_compare_searches_runs_three_searches_per_seed(split, client, tmp_path):
    from recasketch.tuning.batched import compare_searches

    table = compare_searches(objective(split, tmp_path), SPACE, 4, seeds=[0, 1], n_initial_points=2, n_points=2,
                             scheduler=client)
    assert list(table.search.unique()) == ["serial forest", "batched x2, equal calls", "batched x2, equal wall time"]
    assert len(table) == 6 and (table.groupby("search").seed.apply(list) == [[0, 1]] * 3).all()
    assert (table[table.search != "batched x2, equal wall time"].calls == 4).all()
    timed = table[table.search == "batched x2, equal wall time"]
    assert ((timed.calls >= 2) & (timed.calls <= 16)).all()
    assert table.best.between(0, 1).all()


def test_a_pipelined_search_keeps_both_workers_busy_and_proposes_the_same_points_whatever_finishes_first(
        split, client, tmp_path):
    # x0: a quick call and a slow one (3 s), told apart by their learning rates; the third call is
    # proposed once the first is told. Pipelined, it starts while the slow call still runs; batched,
    # it waits for it.
    quick, slow = 0.0456, 0.0123
    x0 = [{"epochs": 3, "learning_rate": quick, "no_components": 4},
          {"epochs": 4, "learning_rate": slow, "no_components": 4}]
    space = SPACE
    runs = {}
    for name, pipelined, sleep in [("pipelined", True, {slow: 3.0}), ("batched", False, {slow: 3.0}),
                                   ("pipelined, nothing slow", True, {})]:
        folder = tmp_path / name.replace(", ", "-")
        folder.mkdir()
        log = folder / "search.jsonl"
        runs[name] = batched_search(objective(split, folder, sleep_at=sleep), space, 7, log_path=log,
                                    x0=x0, n_initial_points=2, n_points=2, scheduler=client, random_state=4,
                                    progress=False, pipelined=pipelined)
        check_log(log, runs[name].calls)
        times = timeline(folder)
        slow_end = next(end for rate, _, end in times if rate == slow)
        later = [start for rate, start, _ in times if rate not in (quick, slow)]
        assert len(times) == 7 and len(later) == 5
        if name == "pipelined":
            assert min(later) < slow_end  # a worker started the third call while the slow one ran
        elif name == "batched":
            assert min(later) >= slow_end  # the batch waited for its slow call
    assert len(runs["pipelined"].calls) == 7 and runs["pipelined"].n_failed == 0
    # which call finished first changes nothing: the same points with or without the slow call
    assert points(runs["pipelined"].calls) == points(runs["pipelined, nothing slow"].calls)
    assert len(runs["pipelined"].optimize_result.x_iters) == 7
    # its log is resumed like any other: the batched search extends it
    log = tmp_path / "pipelined" / "search.jsonl"
    more = batched_search(objective(split, tmp_path / "pipelined"), space, 9, log_path=log, x0=x0,
                          n_initial_points=2, n_points=2, scheduler=client, random_state=4, progress=False)
    assert more.n_resumed == 7 and len(more.calls) == 9
