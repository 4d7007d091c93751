"""recasketch.parallel.cache: a long step's result is kept with its key and reused only for that key."""

import pickle
import re
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recasketch.parallel.cache import Stored, cached, fingerprint, read


class Counter:
    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


def test_the_same_key_reads_back_another_key_recomputes_and_replaces(tmp_path):
    path = tmp_path / "step.pkl"
    step = Counter({"table": pd.DataFrame({"a": [1, 2]})})
    first = cached(path, {"epochs": 10, "seed": 0}, step)
    again = cached(path, {"seed": 0, "epochs": 10}, step)  # the order of the key does not matter
    assert step.calls == 1
    pd.testing.assert_frame_equal(again["table"], first["table"])
    cached(path, {"epochs": 20, "seed": 0}, step)
    assert step.calls == 2
    assert read(path).key == '{"epochs": 20, "seed": 0}' and read(path).seconds >= 0
    cached(path, {"epochs": 10, "seed": 0}, step)  # the older result was replaced
    assert step.calls == 3


def test_numpy_values_in_a_key_equal_plain_ones(tmp_path):
    path = tmp_path / "step.pkl"
    step = Counter(1)
    cached(path, {"n": np.int64(3), "xs": np.arange(2), "ps": (0.5, 1.0)}, step)
    cached(path, {"n": 3, "xs": [0, 1], "ps": [0.5, 1.0]}, step)
    assert step.calls == 1


def test_without_a_path_it_always_computes():
    step = Counter(5)
    assert cached(None, {"a": 1}, step) == 5 and cached(None, {"a": 1}, step) == 5
    assert step.calls == 2


def test_a_failed_step_leaves_nothing_and_a_torn_file_is_recomputed(tmp_path):
    path = tmp_path / "step.pkl"

    def fails():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cached(path, {"a": 1}, fails)
    assert list(tmp_path.iterdir()) == []
    path.write_bytes(pickle.dumps(Stored('{"a": 1}', 7, 1.0))[:20])  # half a file
    with pytest.warns(RuntimeWarning, match="truncated"):
        assert read(path) is None
    step = Counter(8)
    with pytest.warns(RuntimeWarning, match="computed again and replaced"):
        assert cached(path, {"a": 1}, step) == 8 and step.calls == 1
    path.write_bytes(pickle.dumps({"not": "ours"}))
    with pytest.warns(RuntimeWarning, match="not a result kept"):
        assert read(path) is None


class Rendezvous:
    """A result whose pickling waits until two are being pickled at once."""

    barrier = threading.Barrier(2, timeout=10)

    def __init__(self, writer):
        self.writer = writer

    def __reduce__(self):
        type(self).barrier.wait()  # both writers are mid-write here
        return (Plain, (self.writer,))


class Plain:
    def __init__(self, writer):
        self.writer = writer


def test_two_writers_of_one_key_at_once_both_keep_their_result(tmp_path):
    path = tmp_path / "step.pkl"
    Rendezvous.barrier.reset()
    results, errors = {}, []

    def write(writer):
        try:
            results[writer] = cached(path, {"a": 1}, lambda: Rendezvous(writer))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(w,), daemon=True) for w in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == [] and {w: r.writer for w, r in results.items()} == {"first": "first", "second": "second"}
    assert [p.name for p in tmp_path.iterdir()] == ["step.pkl"]  # no temporary file left
    assert read(path).key == '{"a": 1}' and read(path).value.writer in ("first", "second")  # one of them, whole


class HoldsAFunction:
    def __init__(self):
        self.function = lambda: 1  # a local lambda does not pickle


def test_a_result_that_does_not_pickle_is_returned_with_a_warning_and_leaves_no_file(tmp_path):
    path = tmp_path / "sub" / "step.pkl"
    value = HoldsAFunction()
    with pytest.warns(RuntimeWarning, match=r"step\.pkl is returned but could not be kept.*HoldsAFunction.*"
                                            r"does not pickle") as caught:
        assert cached(path, {"a": 1}, lambda: value) is value
    assert len(caught) == 1
    assert list(path.parent.iterdir()) == []
    step = Counter(3)
    assert cached(path, {"a": 1}, step) == 3 and step.calls == 1  # computed again, as nothing was kept
    assert [p.name for p in path.parent.iterdir()] == ["step.pkl"]


def test_a_result_whose_folder_cannot_be_written_is_returned_with_a_warning(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.warns(RuntimeWarning, match=r"file/step\.pkl is returned but could not be kept.*could not be written"):
        assert cached(tmp_path / "file" / "step.pkl", {"a": 1}, Counter(4)) == 4


def test_a_corrupted_byte_is_a_miss_recomputed_with_a_warning_naming_the_file(tmp_path):
    path = tmp_path / "step.pkl"
    value = {"table": list(range(20)), "name": "x" * 40}
    cached(path, {"a": 1}, Counter(value))
    good = path.read_bytes()
    bad = bytearray(good)
    bad[9] ^= 0xFF  # in the length of the pickle's first frame: a read of exabytes
    path.write_bytes(bytes(bad))
    step = Counter(value)
    with pytest.warns(RuntimeWarning, match=rf"Could not read the kept result {re.escape(str(path))} \(MemoryError"):
        assert cached(path, {"a": 1}, step) == value
    assert step.calls == 1 and read(path).value == value  # replaced by the recomputed result
    path.write_bytes(pickle.dumps({"not": "ours"}))
    with pytest.warns(RuntimeWarning, match=r"step\.pkl holds a dict, not a result kept"):
        assert read(path) is None


def test_no_corrupted_byte_raises_every_one_is_recomputed_or_read(tmp_path):
    path = tmp_path / "step.pkl"
    value = {"table": list(range(20)), "name": "x" * 40}
    cached(path, {"a": 1}, Counter(value))
    good = path.read_bytes()
    recomputed = 0
    for i in range(len(good)):
        bad = bytearray(good)
        bad[i] ^= 0xFF
        path.write_bytes(bytes(bad))
        step = Counter(value)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cached(path, {"a": 1}, step)  # never raises
        if caught:
            assert step.calls == 1 and str(path) in str(caught[0].message) and read(path).value == value
            recomputed += 1
    assert recomputed > len(good) // 2  # (a flipped byte inside a string or number can read as another value)


def test_keys_hold_plain_values_only(tmp_path):
    with pytest.raises(TypeError, match="fingerprint"):
        cached(tmp_path / "x.pkl", {"data": sp.eye(2)}, Counter(1))
    with pytest.raises(TypeError, match="mapping"):
        cached(tmp_path / "x.pkl", ["epochs", 10], Counter(1))


def test_fingerprints_follow_the_data_not_its_format():
    rng = np.random.default_rng(0)
    dense = (rng.random((20, 15)) < 0.3).astype(np.float32)
    m = sp.csr_matrix(dense)
    coo = m.tocoo()
    doubled = sp.coo_matrix((np.r_[coo.data, coo.data] / 2, (np.r_[coo.row, coo.row], np.r_[coo.col, coo.col])),
                            shape=coo.shape)  # the same matrix with every entry split in two
    assert fingerprint(m) == fingerprint(coo) == fingerprint(m.tocsc()) == fingerprint(doubled)
    changed = m.copy()
    changed.data[0] = 2
    assert fingerprint(changed) != fingerprint(m)
    assert fingerprint(sp.csr_matrix(dense[:, :14])) != fingerprint(sp.csr_matrix(dense[:, :14].T))
    assert fingerprint(m, None) != fingerprint(None, m) != fingerprint(m)
    assert fingerprint(np.arange(3)) != fingerprint(np.arange(3.0)) != fingerprint(np.arange(4.0))
    frame = pd.DataFrame({"user": [1, 2], "item": [3, 4]})
    assert fingerprint(frame) == fingerprint(frame.copy()) != fingerprint(frame.assign(item=[3, 5]))
    with pytest.raises(TypeError, match="numeric arrays"):
        fingerprint(np.array(["a", None], dtype=object))


def scaled_sum(matrix, factor, offset=0.0, rows=None):
    """A job for cached_map: module-level, so that the workers can import it."""
    return float(matrix[rows or slice(None)].sum()) * factor + offset


def test_cached_map_runs_what_is_missing_on_the_cluster_and_keeps_each_result(tmp_path, client):
    from recasketch.parallel.cache import cached_map, path_for

    matrix = sp.csr_matrix(np.arange(12, dtype=np.float32).reshape(3, 4))
    data = fingerprint(matrix)

    def jobs(factors, offset=0.0):
        out = {}
        for f in factors:
            key = {"factor": f, "offset": offset, "data": data}
            out[f"x{f}"] = (path_for(tmp_path, "job", key), key, {"factor": f})
        return out

    first = cached_map(scaled_sum, jobs([1, 2, 3]), shared={"matrix": matrix}, scheduler=client)
    assert first == {"x1": 66.0, "x2": 132.0, "x3": 198.0}
    assert len(list(tmp_path.glob("job-*.pkl"))) == 3
    assert all(read(p).seconds >= 0 for p in tmp_path.glob("job-*.pkl"))
    # stored ones are read back: a function that would fail shows nothing is run again
    assert cached_map(lambda **kw: 1 / 0, jobs([3, 2, 1]), shared={"matrix": matrix}, scheduler=client) == {
        "x3": 198.0, "x2": 132.0, "x1": 66.0}
    # one job missing among stored ones runs here; two or more run on the cluster, with a notebook-style factory
    offset = 0.5
    mixed = cached_map(lambda matrix, factor: scaled_sum(matrix, factor, offset), jobs([1, 4]),
                       shared={"matrix": matrix}, scheduler=client)
    assert mixed == {"x1": 66.0, "x4": 264.5}
    local_factory = cached_map(lambda matrix, factor: scaled_sum(matrix, factor, offset), jobs([5, 6], offset),
                               shared={"matrix": matrix}, scheduler=client)
    assert local_factory == {"x5": 330.5, "x6": 396.5}
    # lists and dicts are shared whole, not item by item
    rows = cached_map(scaled_sum, jobs([7, 8]), shared={"matrix": matrix, "rows": [0, 1]}, scheduler=client)
    assert rows == {"x7": 7 * 28.0, "x8": 8 * 28.0}
    # without paths nothing is kept
    assert cached_map(scaled_sum, {"a": (None, {"f": 1}, {"factor": 1})}, shared={"matrix": matrix}) == {"a": 66.0}
