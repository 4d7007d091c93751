import nbformat
import pytest

from recasketch.tools.execute import _coalesce_streams, _failure, _settle_progress, execute_notebook


def test_progress_bars_settle_to_their_last_state():
    assert _settle_progress("grid: 0%\rgrid: 50%\rgrid: 100%\ndone\n") == "grid: 100%\ndone\n"


def test_progress_bars_lose_their_timings_and_rates():
    bar = ("grid: 100%|##########| 36/36 [00:06<00:00,  5.69combination/s]\n"
           "search: 100%|#####| 8/8 [1:02:03<00:00, 71.51s/call, best p@k 0.0552]\n")
    assert _settle_progress(bar) == "grid: 100%|##########| 36/36\nsearch: 100%|#####| 8/8\n"
    assert _settle_progress("a list [1, 2] and [00:06] stay\n") == "a list [1, 2] and [00:06] stay\n"


def test_streams_are_merged_by_name():
    outs = [
        nbformat.v4.new_output("stream", name="stderr", text="a 0%\r"),
        nbformat.v4.new_output("stream", name="stderr", text="a 100%\n"),
        nbformat.v4.new_output("stream", name="stdout", text="result\n"),
        nbformat.v4.new_output("stream", name="stderr", text="\n"),
    ]
    merged = _coalesce_streams(outs)
    assert [(o["name"], o["text"]) for o in merged] == [("stderr", "a 100%\n"), ("stdout", "result\n")]


def test_execute_notebook_writes_outputs_without_timing_metadata(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys\nprint(40 + 2)\nprint('x\\ry', file=sys.stderr)")])
    src = tmp_path / "t.ipynb"
    nbformat.write(nb, src)
    out = execute_notebook(src, tmp_path / "out" / "t.ipynb", timeout=120)
    done = nbformat.read(out, 4)
    cell = done.cells[0]
    assert cell.execution_count == 1
    assert [o["text"] for o in cell.outputs] == ["42\n", "y\n"]
    assert "execution" not in cell.metadata


def test_execute_notebook_records_the_data_budget_machine_and_wall_time(tmp_path, monkeypatch):
    from recasketch.tools.execute import RUN_METADATA, describe_machine

    params = nbformat.v4.new_code_cell('import os\nDATA = os.environ.get("RECASKETCH_DATA", "sample")\n'
                                       'BUDGET = os.environ.get("RECASKETCH_BUDGET", "ci")')
    src = tmp_path / "p.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell("import time; time.sleep(0.3)")]),
                   src)
    monkeypatch.setenv("RECASKETCH_BUDGET", "full")
    monkeypatch.delenv("RECASKETCH_DATA", raising=False)
    record = nbformat.read(execute_notebook(src, tmp_path / "p_out.ipynb", timeout=120), 4).metadata[RUN_METADATA]
    assert (record["data"], record["budget"]) == ("sample", "full")  # the cell's default; the variable set
    assert 0.3 <= record["seconds"] < 120 and record["seconds"] == round(record["seconds"], 1)
    assert record["machine"]["cpus"] >= 1 and describe_machine(record["machine"]).startswith(
        f"{record['machine']['cpus']} CPU")
    assert set(record) == {"data", "budget", "machine", "seconds"}  # no date: a rerun changes only seconds

    failing = tmp_path / "f.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell("1 / 0")]), failing)
    with pytest.raises(Exception, match="ZeroDivisionError"):
        execute_notebook(failing, tmp_path / "f_out.ipynb", timeout=120)
    record = nbformat.read(tmp_path / "f_out.ipynb", 4).metadata[RUN_METADATA]
    assert record["budget"] == "full" and "seconds" not in record  # no wall time for a run that failed


def test_a_failure_is_reported_in_one_line_without_colour_codes():
    exc = RuntimeError("Traceback\n\x1b[31mTypeError\x1b[39m: bad \x1b[1;32margument\x1b[0m\n")
    assert _failure(exc) == "RuntimeError: TypeError: bad argument"
    assert _failure(ValueError("")) == "ValueError: "


def test_main_reports_a_failing_notebook_and_keeps_what_ran(tmp_path, capsys):
    from recasketch.tools.execute import main

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ran')"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    src = tmp_path / "bad.ipynb"
    nbformat.write(nb, src)
    assert main([str(src), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError: division by zero" in err and "\x1b[" not in err
    kept = nbformat.read(tmp_path / "out" / "bad.ipynb", 4)
    assert kept.cells[0].outputs[0]["text"] == "ran\n"
    from recasketch.study.report import sittings

    assert sittings(tmp_path / "out", "bad.ipynb")["status"].tolist() == ["failed"]


def _start_then_stop(tmp_path, stop, where):
    """Run the command line on a notebook whose first sitting waits, and stop it as a user would.

    Returns the notebook, the flag its cell writes, and the stopped process's (status, stdout, stderr).
    """
    import os
    import signal
    import subprocess
    import sys
    import time

    flag = tmp_path / "running"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import pathlib, time\n"
        f"flag = pathlib.Path({str(flag)!r})\n"
        "if not flag.exists():  # the first sitting waits to be stopped\n"
        "    flag.write_text('up')\n"
        "    time.sleep(120)\n"
        "print('done')")])
    src = tmp_path / "long.ipynb"
    nbformat.write(nb, src)
    first = subprocess.Popen([sys.executable, "-m", "recasketch.tools.execute", str(src), *where],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert flag.exists(), "the notebook's kernel did not start"
    if stop == "kill":
        first.send_signal(signal.SIGTERM)
    else:  # a terminal's Ctrl-C: SIGINT to the whole process group, the kernel included
        os.killpg(first.pid, signal.SIGINT)
    out, err = first.communicate(timeout=60)
    return src, (first.returncode, out, err)


@pytest.mark.parametrize("stop", ["kill", "ctrl-c"])
def test_each_sitting_is_recorded_and_a_stopped_run_says_it_was_interrupted(tmp_path, stop):
    from recasketch.study.report import sittings
    from recasketch.tools.execute import main

    out = tmp_path / "out"
    src, (status, _, err) = _start_then_stop(tmp_path, stop, ["--out", str(out)])
    assert status == 130 and "INTERRUPTED" in err
    assert main([str(src), "--out", str(out)]) == 0  # the second sitting runs to the end
    table = sittings(out, "long.ipynb")
    assert table["status"].tolist() == ["interrupted", "completed"]
    assert table["seconds"].iloc[0] > 0 and table["seconds"].notna().all()
    assert sittings(out, "other.ipynb").empty
    assert table["plan"].isna().all()  # not one of the project's notebooks: no plan to record
    with open(out / "sittings.jsonl", "a") as f:  # a process killed outright leaves a start only
        f.write('{"run": "x", "notebook": "long.ipynb", "started": "2099-01-01T00:00:00+00:00", "event": "start"}\n')
    assert sittings(out, "long.ipynb")["status"].tolist() == ["interrupted", "completed", "no end recorded"]


def test_sittings_add_up_and_unrecorded_ones_are_named():
    import pandas as pd

    from recasketch.study.report import describe_sittings

    t = pd.DataFrame({"started": ["a", "b", "c", "d"], "seconds": [3600.0, float("nan"), 5400.0, float("nan")],
                      "status": ["interrupted", "no end recorded", "interrupted", "no end recorded"]})
    text = describe_sittings(t, 900)
    assert text.startswith("Sitting 4 of this results run")
    assert "3 earlier sittings (2.5 h)" in text and "2.8 h in all" in text and "took 15 min itself" in text
    assert text.endswith("not counting 1 sitting killed before it recorded how long it ran.")
    heard = t.assign(seconds=[3600.0, 1800.0, 5400.0, float("nan")])  # the killed one left heartbeats
    text = describe_sittings(heard, 900)
    assert "3 earlier sittings (3.0 h; 1 of them killed outright, counted to its last heartbeat)" in text
    assert text.endswith("3.2 h in all.")


def test_a_sitting_killed_outright_is_timed_by_its_heartbeats(tmp_path):
    import time

    from recasketch.study.report import sittings
    from recasketch.tools.execute import _Sitting

    sitting = _Sitting(tmp_path, "long.ipynb", heartbeat_s=0.05)
    time.sleep(0.5)
    sitting._ended.set()  # as if killed: the beats stop and no end line is written
    time.sleep(0.1)
    table = sittings(tmp_path, "long.ipynb")
    assert table["status"].tolist() == ["no end recorded"]
    assert 0.2 <= table["seconds"].iloc[0] <= 1.0
    lines = (tmp_path / "sittings.jsonl").read_text().splitlines()
    assert sum('"alive"' in line for line in lines) >= 3
    done = _Sitting(tmp_path, "short.ipynb", heartbeat_s=0.05)
    done.end("completed")
    time.sleep(0.2)
    assert sittings(tmp_path, "short.ipynb")["status"].tolist() == ["completed"]
    assert not any('"alive"' in line and "short.ipynb" in line
                   for line in (tmp_path / "sittings.jsonl").read_text().splitlines())


# ------------------------------------------------------------------ bad inputs, found before or while running

def _notebook(path, *sources):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources]), path)
    return path


def test_a_cell_past_the_timeout_is_named_with_the_limit_in_one_line(tmp_path, capsys):
    from recasketch.tools.execute import main

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# slow"),
                                         nbformat.v4.new_code_cell("print('ran')"),
                                         nbformat.v4.new_code_cell("\n\nimport time  # wait\ntime.sleep(60)")])
    src = tmp_path / "slow.ipynb"
    nbformat.write(nb, src)
    out = tmp_path / "out"
    assert main([str(src), "--out", str(out), "--timeout", "2"]) == 1
    failed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("FAILED")]
    assert failed == [f"FAILED {src}: CellTimeoutError: cell 2 ('import time  # wait', counting cells from 0) "
                      "was still running after 2 s, the limit per cell"]
    assert nbformat.read(out / "slow.ipynb", 4).cells[1].outputs[0]["text"] == "ran\n"


def test_every_notebook_path_is_checked_before_anything_runs(tmp_path, capsys):
    from recasketch.tools.execute import main

    good = _notebook(tmp_path / "good.ipynb", "print('ran')")
    (tmp_path / "folder.ipynb").mkdir()
    _notebook(tmp_path / "notes.txt", "1")
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "list.ipynb").write_text("[]")
    (tmp_path / "invalid.ipynb").write_text('{"nbformat": 4, "nbformat_minor": 5, "cells": []}')
    bad = ["missing.ipynb", "folder.ipynb", "notes.txt", "broken.ipynb", "list.ipynb", "invalid.ipynb"]
    out = tmp_path / "out"
    assert main([str(good), *(str(tmp_path / name) for name in bad), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()  # nothing ran, not even the good notebook
    lines = captured.err.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [str(tmp_path / name) for name in bad]
    reasons = [line.split(": ", 1)[1] for line in lines]
    assert reasons[:3] == ["no such file", "not a file", "not a notebook (its name does not end in .ipynb)"]
    assert reasons[3].startswith("not a notebook (not valid JSON: ")
    assert reasons[4].startswith("not a notebook (its JSON has no nbformat version")
    assert reasons[5] == "not a valid notebook ('metadata' is a required property)"
    assert "Traceback" not in captured.err


def test_a_partly_executed_notebook_is_named_only_when_this_run_wrote_it(tmp_path, capsys, monkeypatch):
    from recasketch.tools import execute

    def fails_before_writing(path, *args, **kwargs):
        raise FileNotFoundError(f"No such file or directory: {str(path)!r}")

    monkeypatch.setattr(execute, "execute_notebook", fails_before_writing)
    src = _notebook(tmp_path / "a.ipynb", "1")
    out = tmp_path / "out"
    assert execute.main([str(src), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "FileNotFoundError" in err and "partly executed" not in err and str(out / "a.ipynb") not in err
    assert err.splitlines()[-1] == "kept nothing"
    _notebook(out / "a.ipynb", "1")  # left by an earlier run: not this run's partly executed notebook
    assert execute.main([str(src), "--out", str(out)]) == 1
    assert "partly executed" not in capsys.readouterr().err


@pytest.mark.parametrize("case", ["a file", "under a file", "an unwritable folder", "not creatable"])
def test_an_unusable_out_folder_is_one_line_before_anything_runs(tmp_path, capsys, case):
    from pathlib import Path

    from recasketch.tools.execute import main

    (tmp_path / "file").write_text("x")
    out, reason = {"a file": (tmp_path / "file", "is a file, not a folder"),
                   "under a file": (tmp_path / "file" / "out", f"cannot be created, as {tmp_path / 'file'} is not a folder"),
                   "an unwritable folder": (Path("/proc/self"), "cannot write files in this folder"),
                   "not creatable": (Path("/proc/recasketch-test"), "cannot be created (")}[case]
    if case in ("an unwritable folder", "not creatable") and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc")
    src = _notebook(tmp_path / "a.ipynb", "print('ran')")
    assert main([str(src), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith(f"--out {out}: {reason}")


def test_inplace_needs_writable_notebooks_and_copies_must_not_collide(tmp_path, capsys, monkeypatch):
    import os

    from recasketch.tools.execute import main

    a, b = (tmp_path / "a", tmp_path / "b")
    a.mkdir(), b.mkdir()
    one, two = _notebook(a / "x.ipynb", "1"), _notebook(b / "x.ipynb", "2")
    (tmp_path / "out" / "y.ipynb").mkdir(parents=True)
    three = _notebook(a / "y.ipynb", "3")
    assert main([str(one), str(two), str(one), str(three), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{one} and {two} would both be written to {tmp_path / 'out' / 'x.ipynb'}",
        f"{three} cannot be written to {tmp_path / 'out' / 'y.ipynb'}: it is a folder"]
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # as for a user without write permission
    assert main([str(one), "--inplace"]) == 2
    assert capsys.readouterr().err == f"{one}: cannot be overwritten (--inplace): no permission to write it\n"


@pytest.mark.parametrize("stop, where", [("kill", "--out"), ("ctrl-c", "--inplace")])
def test_a_stopped_run_says_so_in_one_line_and_logs_the_kernels_own_noise(tmp_path, stop, where):
    import os
    import re

    out = tmp_path / "out"
    _, (status, _, err) = _start_then_stop(tmp_path, stop, ["--out", str(out)] if where == "--out" else [where])
    assert status == 130
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"INTERRUPTED {tmp_path / 'long.ipynb'} after ")
    assert f"kept the partly executed notebook ({out / 'long.ipynb' if where == '--out' else tmp_path / 'long.ipynb'})" in err
    log = re.search(r"the kernel's messages \((.+?)\);", err).group(1)
    if where == "--out":
        assert log == str(out / "kernel.log")
    try:
        assert open(log).read().startswith("--- kernel of long.ipynb, started ")
    finally:
        if where == "--inplace":
            os.unlink(log)


def test_a_run_in_place_that_completes_leaves_no_kernel_log(tmp_path, capsys, monkeypatch):
    import tempfile

    from recasketch.tools.execute import main

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    src = _notebook(tmp_path / "a.ipynb", "print('ran')")
    assert main([str(src), "--inplace"]) == 0
    assert nbformat.read(src, 4).cells[0].outputs[0]["text"] == "ran\n"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_sitting_records_the_plan_of_the_budget_it_runs(tmp_path, monkeypatch):
    from recasketch.study import budgets
    from recasketch.study.report import sittings
    from recasketch.tools.execute import _plan_of, _Sitting

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'import os\nBUDGET = os.environ.get("RECASKETCH_BUDGET", "ci")')])
    src = tmp_path / "02_mine.ipynb"
    nbformat.write(nb, src)
    assert _plan_of(src, {}) == budgets.plan_id("02", "ci")  # the parameter cell's default
    assert _plan_of(src, {"RECASKETCH_BUDGET": "full"}) == budgets.plan_id("02", "full") != budgets.plan_id("02", "ci")
    assert _plan_of(src, {"RECASKETCH_BUDGET": "huge"}) is None  # the notebook refuses it itself
    monkeypatch.setenv("RECASKETCH_BUDGET", "posts")
    _Sitting(tmp_path, src.name, plan=_plan_of(src)).end("completed")
    assert sittings(tmp_path, src.name)["plan"].tolist() == [budgets.plan_id("02", "posts")]
