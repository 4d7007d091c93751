"""Logs keyed by what made them: a rerun with another key never returns old results."""

import json
import multiprocessing

import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

from recasketch.tuning.grid import grid_search_learning_curve, read_grid_log
from recasketch.tuning.objectives import LightFMObjective, ValidationObjective
from recasketch.tuning.search import read_search_log, resumable_search
from recasketch.tuning.search_log import (KEY_MARK, LogInUseError, LogMismatchError, key_hash, log_file,
                                          open_log)

SPACE = {"x": (0.0, 1.0), "n": (1, 10)}
LIGHTFM_SPACE = {"epochs": (1, 3), "learning_rate": (0.01, 0.1, "log-uniform"), "no_components": (2, 6)}
GRID = {"factors": [4], "regularization": [0.01, 0.1]}


class Counted:
    """A cheap objective that counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, point):
        self.calls += 1
        return {"p@k": 1.0 - (point["x"] - 0.3) ** 2, "score": point["x"]}


def search(objective, log, n_calls=4, space=SPACE, **kw):
    kw = {"n_initial_points": 2, "random_state": 0, "progress": False, **kw}
    return resumable_search(objective, space, n_calls, log_path=log, **kw)


class CountingALS:
    built = 0

    def __new__(cls, **params):
        cls.built += 1
        return AlternatingLeastSquares(**params)


def grid(split, log, k=5, users="split", exclude_train=False, estimator=CountingALS, train=None):
    train_, test, split_users = split
    return grid_search_learning_curve({"random_state": 0, "num_threads": 1}, GRID,
                                      train_ if train is None else train, test, [2], k=k,
                                      user_index=split_users if users == "split" else users,
                                      estimator=estimator, exclude_train=exclude_train, n_jobs=1,
                                      log_path=log, progress=False)


# ---------------------------------------------------------------- searches


def test_a_search_log_records_its_key_seed_included(tmp_path):
    log = tmp_path / "search.jsonl"
    search(Counted(), log, random_state=7, target="score")
    header = json.loads(log.read_text().splitlines()[0])
    assert header["log"] == "search"
    assert header["key"]["seed"] == 7 and header["key"]["target"] == "score"
    assert header["key"]["objective"] == "test_search_log.Counted"


@pytest.mark.parametrize("change, named", [
    ({"random_state": 1}, "seed is 1 here, 0 in the log"),
    ({"target": "score"}, 'target is score here, p@k in the log'),
])
def test_a_search_resumed_with_another_seed_or_target_is_refused(tmp_path, change, named):
    log = tmp_path / "search.jsonl"
    search(Counted(), log)
    before = log.read_text()
    objective = Counted()
    with pytest.raises(LogMismatchError, match=named + r".*none is reused.*another log_path.*delete the log"):
        search(objective, log, n_calls=6, **change)
    assert objective.calls == 0 and log.read_text() == before


def test_a_search_resumed_on_other_data_or_another_k_is_refused(split, tmp_path):
    train, test, users = split
    log = tmp_path / "search.jsonl"
    first = LightFMObjective(train, test, users, k=3, random_state=0)
    search(first, log, n_calls=2, space=LIGHTFM_SPACE, n_initial_points=1)
    fewer = train.tolil()
    fewer[0, fewer[0].nonzero()[1][0]] = 0
    for objective, named in [(LightFMObjective(sp.csr_matrix(fewer), test, users, k=3, random_state=0),
                              r"objective\.train is [0-9a-f]{16} here, [0-9a-f]{16} in the log"),
                             (LightFMObjective(train, test, users, k=5, random_state=0), "objective.k is 5 here, 3"),
                             (LightFMObjective(train, test, users[:5], k=3, random_state=0), "objective.users is"),
                             (LightFMObjective(train, test, users, k=3, loss="bpr", random_state=0),
                              "objective.model is")]:
        with pytest.raises(LogMismatchError, match=named):
            search(objective, log, n_calls=3, space=LIGHTFM_SPACE, n_initial_points=1)
    assert len(read_search_log(log, LIGHTFM_SPACE)) == 2
    # the same objective built again resumes: equal data, equal key
    again = search(LightFMObjective(train.copy(), test.copy(), users.copy(), k=3, random_state=0), log, n_calls=2,
                   space=LIGHTFM_SPACE, n_initial_points=1)
    assert again.n_resumed == 2


def test_a_validation_objective_keys_validation_and_test_apart(validation_split):
    train, validation, test, users = validation_split
    one = ValidationObjective(train, validation, test, users, random_state=0).log_key()
    swapped = ValidationObjective(train, test, validation, users, random_state=0).log_key()
    assert one["validation"] != one["test"] and one != swapped
    assert one["scores"]["p@k"].startswith("validation")


def test_a_search_on_an_empty_log_writes_its_header_and_guards_it_from_then_on(tmp_path):
    log = tmp_path / "search.jsonl"
    log.touch()
    search(Counted(), log)
    assert json.loads(log.read_text().splitlines()[0])["log"] == "search"
    with pytest.raises(LogMismatchError, match="space.x is"):
        search(Counted(), log, space={"x": (0.0, 2.0), "n": (1, 10)})


def test_a_torn_header_alone_is_started_afresh_and_with_calls_is_refused(tmp_path):
    log = tmp_path / "search.jsonl"
    log.write_text('{"log": "search", "ke')  # killed while writing the header: nothing to lose
    assert search(Counted(), log).n_resumed == 0
    lines = log.read_text().splitlines()
    assert json.loads(lines[0])["log"] == "search" and len(lines) == 5

    log.write_text('{"log": "sea\n' + "\n".join(lines[1:]) + "\n")  # the header torn, the calls kept
    objective = Counted()
    with pytest.raises(LogMismatchError, match="the header, is damaged, so its 4 call.* cannot be checked"):
        search(objective, log, n_calls=6)
    assert objective.calls == 0


def test_a_header_alone_of_another_key_is_started_afresh(tmp_path):
    log = tmp_path / "search.jsonl"
    log.write_text(json.dumps({"log": "grid", "key": {"k": 5}}) + "\n")  # a start that ran nothing
    assert search(Counted(), log).n_resumed == 0
    assert json.loads(log.read_text().splitlines()[0])["log"] == "search"


def test_a_log_of_the_other_kind_is_refused_both_ways(split, tmp_path):
    grid_log, search_log = tmp_path / "grid.jsonl", tmp_path / "search.jsonl"
    grid(split, grid_log)
    search(Counted(), search_log)
    grid_before, search_before = grid_log.read_text(), search_log.read_text()
    with pytest.raises(LogMismatchError, match="grid.jsonl is a grid log, not a search log"):
        search(Counted(), grid_log)
    with pytest.raises(LogMismatchError, match="search.jsonl is a search log, not a grid log"):
        grid(split, search_log)
    with pytest.raises(LogMismatchError, match="is a search log, not a grid log"):
        read_grid_log(search_log)
    with pytest.raises(LogMismatchError, match="is a grid log, not a search log"):
        read_search_log(grid_log, SPACE)
    assert grid_log.read_text() == grid_before and search_log.read_text() == search_before


def test_a_search_log_from_before_keys_is_refused(tmp_path):
    log = tmp_path / "search.jsonl"
    search(Counted(), log)
    header, *calls = log.read_text().splitlines()
    old = {"space": json.loads(header)["key"]["space"], "target": "p@k"}
    log.write_text(json.dumps(old) + "\n" + "\n".join(calls) + "\n")
    with pytest.raises(LogMismatchError, match="written before logs carried the key.*its 4 call"):
        search(Counted(), log)
    assert len(read_search_log(log, SPACE)) == 4  # still readable


# ---------------------------------------------------------------- grids


@pytest.mark.parametrize("change, named", [
    ({"k": 3}, "k is 3 here, 5 in the log"),
    ({"exclude_train": True}, "exclude_train is true here, false in the log"),
    ({"users": None}, "users is null here"),
    ({"estimator": AlternatingLeastSquares}, "estimator is implicit.cpu.als.AlternatingLeastSquares here"),
])
def test_a_grid_rerun_with_another_k_protocol_users_or_estimator_is_refused(split, tmp_path, change, named):
    log = tmp_path / "grid.jsonl"
    grid(split, log)
    CountingALS.built = 0
    with pytest.raises(LogMismatchError, match=named + ".*2 combination"):
        grid(split, log, **change)
    assert CountingALS.built == 0


def test_a_grid_rerun_on_other_data_is_refused(split, tmp_path):
    log = tmp_path / "grid.jsonl"
    grid(split, log)
    with pytest.raises(LogMismatchError, match="train is [0-9a-f]{16} here"):
        grid(split, log, train=split[0] * 2)


def test_a_keyed_log_name_gives_each_configuration_its_own_log(split, tmp_path):
    pattern = log_file(tmp_path, "als_grid", "ci")
    assert KEY_MARK in pattern.name
    CountingALS.built = 0
    at_5 = grid(split, pattern)
    at_3 = grid(split, pattern, k=3)
    assert CountingALS.built == 4  # both ran
    assert len(list(tmp_path.glob("als_grid-ci-*.jsonl"))) == 2
    CountingALS.built = 0
    again = grid(split, pattern)  # back to k=5: read back, nothing run
    assert CountingALS.built == 0
    assert again.equals(at_5) and not again.equals(at_3)
    # another budget of the same run is another file too
    assert log_file(tmp_path, "als_grid", "full") != pattern


# ---------------------------------------------------------------- writers


def _hold(path, key, ready, release):
    with open_log(path, "search", key):
        ready.set()
        release.wait(30)


def test_a_second_writer_is_refused_while_the_first_holds_the_log(tmp_path):
    log = tmp_path / "search.jsonl"
    key = {"space": "x"}
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    other = context.Process(target=_hold, args=(log, key, ready, release))
    other.start()
    try:
        assert ready.wait(60)
        with pytest.raises(LogInUseError, match="is being written by another run now"):
            with open_log(log, "search", key):
                pass
    finally:
        release.set()
        other.join(30)
    with open_log(log, "search", key) as (path, records):  # free again once the other ended
        assert path == log and records == []


def test_a_writer_in_this_process_holds_the_log_too(tmp_path):
    log = tmp_path / "search.jsonl"
    with open_log(log, "search", {"a": 1}):
        with pytest.raises(LogInUseError):
            with open_log(log, "search", {"a": 1}):
                pass


def test_a_refused_start_leaves_no_log_and_a_started_one_keeps_its_records(tmp_path):
    log = tmp_path / "log-{key}.jsonl"
    with pytest.raises(RuntimeError, match="refused"):
        with open_log(log, "search", {"a": 1}):
            raise RuntimeError("refused")
    assert list(tmp_path.iterdir()) == []
    path = tmp_path / f"log-{key_hash({'a': 1})}.jsonl"
    with pytest.raises(RuntimeError):
        with open_log(log, "search", {"a": 1}) as (opened, _):
            assert opened == path
            with open(opened, "a") as fh:
                fh.write(json.dumps({"call": 0}) + "\n")
            raise RuntimeError("stopped after a call")
    assert len(path.read_text().splitlines()) == 2


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown kind of log 'other'"):
        with open_log(tmp_path / "x.jsonl", "other", {}):
            pass
