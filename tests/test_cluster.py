"""Grids on Dask: a 2-worker LocalCluster gives the serial results, loses nothing when a
worker is killed mid-grid, and resumes from its log after an interruption on the client."""

import contextlib
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from implicit.cpu.als import AlternatingLeastSquares

from sklearn.model_selection import ParameterGrid

from recasketch.errors import EngineUnavailableError
from recasketch.parallel import cluster
from recasketch.tuning import grid
from recasketch.tuning.grid import _params_key, grid_search_learning_curve, read_grid_log
from workers import kill_on_mark

distributed = pytest.importorskip("distributed")


GRID = {"factors": [4, 8], "regularization": [0.01, 1.0]}
BASE = {"random_state": 0, "num_threads": 1}


def quality(results):
    return results[results.metric != "seconds"].reset_index(drop=True)


def marked_als(marker_dir, slow=None, **params):
    """implicit's ALS, leaving a file per construction in ``marker_dir``; the first time the
    combination ``slow`` (factors, regularization) is built, its process writes its pid to
    ``killme`` and sleeps, waiting to be killed."""
    marker_dir = Path(marker_dir)
    key = f"{params['factors']}-{params['regularization']}"
    (marker_dir / f"built-{key}-{uuid.uuid4().hex}").touch()
    if slow is not None and (params["factors"], params["regularization"]) == slow:
        pid_file = marker_dir / "killme"
        if not pid_file.exists():
            pid_file.write_text(str(os.getpid()))
            time.sleep(120)
    return AlternatingLeastSquares(**params)


def built(marker_dir) -> dict:
    counts = {}
    for path in Path(marker_dir).glob("built-*"):
        key = path.name.rsplit("-", 1)[0].removeprefix("built-")
        counts[key] = counts.get(key, 0) + 1
    return counts


def log_keys(log: Path) -> list:
    """The combinations of a grid's log, in order, after its header."""
    header, *records = log.read_text().splitlines()
    assert json.loads(header)["log"] == "grid"
    return [_params_key(json.loads(line)["params"]) for line in records]


def test_resolve_scheduler_reads_the_environment(monkeypatch):
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    assert cluster.resolve_scheduler() == cluster.DEFAULT_SCHEDULER
    monkeypatch.setenv(cluster.SCHEDULER_ENV, "tcp://10.1.2.3:8786")
    assert cluster.resolve_scheduler() == "tcp://10.1.2.3:8786"
    assert cluster.resolve_scheduler("processes") == "processes"  # an argument wins
    monkeypatch.setenv(cluster.SCHEDULER_ENV, "10.1.2.3:8786")
    with pytest.raises(ValueError, match=r"Unknown scheduler '10.1.2.3:8786'.*tcp://host:8786.*RECASKETCH_SCHEDULER"):
        cluster.resolve_scheduler()
    with pytest.raises(TypeError, match="string or a distributed.Client"):
        cluster.resolve_scheduler(8786)
    with pytest.raises(ValueError, match="not a Dask scheduler"):
        cluster.get_client("processes")


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(EngineUnavailableError, match=r"Could not reach the Dask scheduler at tcp://127.0.0.1:9.*"
                                                     r"dask scheduler.*unset RECASKETCH_SCHEDULER") as info:
        cluster.get_client("tcp://127.0.0.1:9", timeout=1)
    assert info.value.engine == "dask"


@contextlib.contextmanager
def raw_server(greeting=b"", hold=5.0):
    """A TCP server on 127.0.0.1 that accepts, sends ``greeting`` (maybe nothing) and then says
    nothing more, holding each connection for ``hold`` seconds at most; yields its address."""
    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)

    def serve():
        held = []
        deadline = time.monotonic() + hold
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            with contextlib.suppress(OSError):
                conn.sendall(greeting)
        for conn in held:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def fails_in_time(address, timeout=1.0, **kwargs) -> str:
    """The message of the EngineUnavailableError that connecting to ``address`` raises, in time."""
    start = time.monotonic()
    with pytest.raises(EngineUnavailableError) as info:
        cluster.get_client(address, timeout=timeout, **kwargs)
    assert time.monotonic() - start < timeout + 1.5
    assert info.value.engine == "dask"
    message = str(info.value)
    shown = os.environ[cluster.SCHEDULER_ENV] if address is None else address
    assert f"Could not reach the Dask scheduler at {shown}" in message
    assert "8787" in message and "8786" in message and "firewall" in message and "unset RECASKETCH_SCHEDULER" in message
    return message


def test_a_server_that_accepts_and_says_nothing_fails_within_the_timeout(monkeypatch):
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    with raw_server() as address:
        message = fails_in_time(address)
    assert "from the scheduler argument" in message and "no answer as a Dask scheduler within 1 s" in message


def test_a_server_speaking_another_protocol_first_is_a_clear_error():
    with raw_server(b"SSH-2.0-OpenSSH_9.6\r\n" * 4) as address:  # read by Dask as a frame of 2.8 EiB
        assert "speaks another protocol" in fails_in_time(address)


class SilentHandler(http.server.BaseHTTPRequestHandler):
    timeout = 3  # a request still unread after 3 s is dropped

    def log_message(self, *args):
        pass


def test_an_http_server_and_the_dashboard_port_fail_in_time_and_the_scheduler_still_connects(monkeypatch):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SilentHandler)
    httpd.daemon_threads = True
    serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    serving.start()
    try:
        fails_in_time(f"tcp://127.0.0.1:{httpd.server_port}")
    finally:
        httpd.shutdown()
        httpd.server_close()
    with distributed.LocalCluster(n_workers=1, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as local:
        (worker,) = local.scheduler.workers
        assert "answers as a Dask Worker, not a scheduler" in fails_in_time(worker)
        dashboard = "tcp://127.0.0.1:" + local.dashboard_link.split(":")[2].split("/")[0]
        monkeypatch.setenv(cluster.SCHEDULER_ENV, dashboard)
        assert "from the environment variable RECASKETCH_SCHEDULER" in fails_in_time(None)
        monkeypatch.setenv(cluster.SCHEDULER_ENV, local.scheduler_address)
        client = cluster.get_client(timeout=5)  # a good address after bad ones connects
        try:
            assert client.status == "running" and client.scheduler.address == local.scheduler_address
            assert cluster.get_client(local.scheduler_address) is client
        finally:
            client.close()


def test_a_malformed_address_names_itself_and_where_it_came_from(monkeypatch):
    monkeypatch.setenv(cluster.SCHEDULER_ENV, "tcp://127.0.0.1:notaport")
    message = fails_in_time(None)
    assert "from the environment variable RECASKETCH_SCHEDULER" in message and "port 'notaport'" in message
    monkeypatch.delenv(cluster.SCHEDULER_ENV)
    for address, problem in [("tcp://127.0.0.1:99999", "port '99999'"), ("tcp://127.0.0.1", "no port"),
                             ("tcp://:8786", "no host"), ("tcp://10.0.0.5:8786/status", "more than a host"),
                             ("tcp://[::1", "not an address")]:
        message = fails_in_time(address)
        assert "from the scheduler argument" in message and problem in message, message


def test_a_connection_made_after_its_deadline_is_handed_to_be_closed():
    late = []
    with pytest.raises(TimeoutError):
        cluster._in_thread(lambda: time.sleep(0.3) or "client", 0.05, abandoned=late.append)
    deadline = time.monotonic() + 5
    while not late and time.monotonic() < deadline:
        time.sleep(0.02)
    assert late == ["client"]
    assert cluster._in_thread(lambda: "in time", 5, abandoned=late.append) == "in time" and late == ["client"]
    with pytest.raises(ZeroDivisionError):
        cluster._in_thread(lambda: 1 / 0, 5)


def test_a_hung_connection_does_not_keep_the_interpreter_from_exiting():
    script = textwrap.dedent("""
        import socket
        from recasketch.errors import EngineUnavailableError
        from recasketch.parallel import cluster

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepted by the kernel, never answered
        try:
            cluster.get_client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.5)
        except EngineUnavailableError:
            print("unavailable", flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "RECASKETCH_SCHEDULER": ""})
    assert done.returncode == 0 and done.stdout == "unavailable\n", done.stderr


def test_a_local_cluster_prints_its_dashboard_and_is_reused(capsys):
    try:
        first = cluster.get_client("local", n_workers=1, dashboard_address="127.0.0.1:0")
        out = capsys.readouterr().out
        assert "Dask LocalCluster: 1 worker processes x 1 thread; dashboard at http://127.0.0.1:" in out
        assert cluster.get_client("local", n_workers=1) is first
        assert capsys.readouterr().out == ""  # not started again
        assert cluster.n_workers(first) == 1
    finally:
        cluster.close_local()


def test_a_dashboard_port_in_use_moves_the_dashboard_without_a_warning(capsys):
    import socket
    import warnings

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # any warning fails the test
                cluster.get_client("local", n_workers=1, dashboard_address=f"127.0.0.1:{port}")
            out = capsys.readouterr().out
            assert "dashboard at http://127.0.0.1:" in out and f":{port}/" not in out
        finally:
            cluster.close_local()


class CountsPickles:
    """Counts how often this process pickles it."""

    pickled = 0

    def __init__(self, payload):
        self.payload = payload

    def __reduce__(self):
        type(self).pickled += 1
        return (CountsPickles, (self.payload,))


def payload_size(i, data):
    return i, len(data.payload)


def test_shared_data_is_sent_to_the_workers_once_not_once_per_task(client):
    CountsPickles.pickled = 0
    seen = {}
    n = cluster.map_unordered(client, payload_size, [{"i": i} for i in range(8)],
                              lambda call, result: seen.setdefault(call["i"], result),
                              shared={"data": CountsPickles(np.zeros(1000))})
    assert n == 8 and seen == {i: (i, 1000) for i in range(8)}
    assert 1 <= CountsPickles.pickled <= 2  # scattered (to each of the 2 workers at most), never per task


def slow_payload_size(i, data, marker_dir):
    (Path(marker_dir) / f"started-{i}-{uuid.uuid4().hex}").touch()
    time.sleep(0.2)
    return i, len(data.payload)


def test_scattered_data_lost_with_its_last_worker_is_sent_again(client, tmp_path):
    CountsPickles.pickled = 0

    def lose_the_data():  # what the death of the last worker holding it does
        while not list(tmp_path.glob("started-*")):
            time.sleep(0.02)
        keys = [k for keys in client.has_what().values() for k in keys if str(k).startswith("CountsPickles")]
        client.cancel([distributed.Future(k, client=client) for k in set(keys)], force=True)

    thread = threading.Thread(target=lose_the_data, daemon=True)
    thread.start()
    seen = []
    cluster.map_unordered(client, slow_payload_size, [{"i": i} for i in range(6)],
                          lambda call, result: seen.append(result),
                          shared={"data": CountsPickles(np.zeros(10))}, common={"marker_dir": str(tmp_path)})
    thread.join()
    assert sorted(seen) == [(i, 10) for i in range(6)]  # each call's result handed back once
    assert CountsPickles.pickled >= 2  # the data was scattered again


def test_grid_on_a_two_worker_cluster_equals_the_serial_grid(split, client, tmp_path):
    train, test, users = split
    serial = grid_search_learning_curve(BASE, GRID, train, test, [2, 4], user_index=users, n_jobs=1,
                                        progress=False)
    log = tmp_path / "grid.jsonl"
    on_dask = grid_search_learning_curve(BASE, GRID, train, test, [2, 4], user_index=users, n_jobs=2,
                                         scheduler=client, log_path=log, progress=False)
    pd.testing.assert_frame_equal(quality(serial), quality(on_dask))
    assert sorted(log_keys(log)) == sorted(_params_key(dict(BASE, **p)) for p in ParameterGrid(GRID))
    logged = read_grid_log(log, list(GRID))  # in the order the combinations finished
    order = [*GRID, "epoch", "metric", "split"]
    pd.testing.assert_frame_equal(quality(logged).sort_values(order, ignore_index=True),
                                  quality(on_dask).sort_values(order, ignore_index=True))


def test_a_worker_killed_mid_grid_loses_nothing(split, client, tmp_path):
    train, test, users = split
    estimator = functools.partial(marked_als, str(tmp_path), (8, 0.01))
    pids_before = set(client.run(os.getpid).values())
    killer, killed = kill_on_mark(tmp_path / "killme")
    log = tmp_path / "grid.jsonl"
    results = grid_search_learning_curve(BASE, GRID, train, test, [2, 4], user_index=users, n_jobs=2,
                                         estimator=estimator, scheduler=client, log_path=log, progress=False)
    killer.join()
    assert killed["pid"] in pids_before  # a worker of the cluster was killed while it ran a combination
    counts = built(tmp_path)
    assert counts["8-0.01"] == 2  # the lost combination ran again, elsewhere
    assert len(counts) == 4  # (a result kept on the killed worker and not yet fetched is computed again)
    keys = log_keys(log)
    assert len(keys) == len(set(keys)) == 4  # every combination logged, exactly once
    serial = grid_search_learning_curve(BASE, GRID, train, test, [2, 4], user_index=users, n_jobs=1,
                                        progress=False)
    pd.testing.assert_frame_equal(quality(serial), quality(results))


def test_a_grid_interrupted_on_the_client_resumes_from_its_log(split, client, tmp_path, monkeypatch):
    train, test, users = split
    estimator = functools.partial(marked_als, str(tmp_path))
    log = tmp_path / "grid.jsonl"
    append = grid.append_record

    def interrupt_after_two(path, record):
        append(path, record)
        if len(Path(path).read_text().splitlines()) == 3:  # the header and two combinations
            raise KeyboardInterrupt("Ctrl-C on the client")

    monkeypatch.setattr(grid, "append_record", interrupt_after_two)
    with pytest.raises(KeyboardInterrupt):
        grid_search_learning_curve(BASE, GRID, train, test, [2, 4], user_index=users, n_jobs=2,
                                   estimator=estimator, scheduler=client, log_path=log, progress=False)
    monkeypatch.setattr(grid, "append_record", append)
    first = log_keys(log)
    assert len(first) == 2
    time.sleep(0.5)  # cancelled tasks that had started may still finish on their worker
    before = built(tmp_path)

    results = grid_search_learning_curve(BASE, GRID, train, test, [2, 4], user_index=users, n_jobs=2,
                                         estimator=estimator, scheduler=client, log_path=log, progress=False)
    keys = log_keys(log)
    assert keys[:2] == first and len(keys) == len(set(keys)) == 4
    after = built(tmp_path)
    ran_again = {k for k in after if after[k] > before.get(k, 0)}
    logged_first = {f"{json.loads(line)['params']['factors']}-{json.loads(line)['params']['regularization']}"
                    for line in log.read_text().splitlines()[1:3]}
    assert len(ran_again) == 2 and not ran_again & logged_first  # only the unfinished ones ran
    serial = grid_search_learning_curve(BASE, GRID, train, test, [2, 4], user_index=users, n_jobs=1,
                                        progress=False)
    pd.testing.assert_frame_equal(quality(serial), quality(results))


def test_compare_grid_schedulers_times_each_and_checks_the_scores(split, client):
    from recasketch.study.scaling import compare_grid_schedulers

    train, test, users = split
    table, results = compare_grid_schedulers(train, test, users, GRID, [2, 4],
                                             {"pool": "processes", "dask": client, "pool again": "processes"},
                                             n_jobs=2, base_params=BASE)
    assert list(table.scheduler) == ["pool", "dask", "pool again"]
    assert (table["largest difference"] == 0).all() and (table["combinations"] == 4).all()
    assert table["relative to first"].iloc[0] == 1.0 and (table["wall seconds"] > 0).all()
    pd.testing.assert_frame_equal(quality(results["pool"]), quality(results["dask"]))
