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


@pytest.mark.parametrize("stop", ["kill", "ctrl-c"])
def test_each_sitting_is_recorded_and_a_stopped_run_says_it_was_interrupted(tmp_path, stop):
    import os
    import signal
    import subprocess
    import sys
    import time

    from recasketch.study.report import sittings
    from recasketch.tools.execute import main

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
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "recasketch.tools.execute", str(src), "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert flag.exists(), "the notebook's kernel did not start"
    if stop == "kill":
        first.send_signal(signal.SIGTERM)
    else:  # a terminal's Ctrl-C: SIGINT to the whole process group, the kernel included
        os.killpg(first.pid, signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130 and "INTERRUPTED" in err
    assert main([str(src), "--out", str(out)]) == 0  # the second sitting runs to the end
    table = sittings(out, "long.ipynb")
    assert table["status"].tolist() == ["interrupted", "completed"]
    assert table["seconds"].iloc[0] > 0 and table["seconds"].notna().all()
    assert sittings(out, "other.ipynb").empty
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
