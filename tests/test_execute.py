import nbformat

from recasketch.execute import _coalesce_streams, _failure, _settle_progress, execute_notebook


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
    from recasketch.execute import main

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ran')"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    src = tmp_path / "bad.ipynb"
    nbformat.write(nb, src)
    assert main([str(src), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError: division by zero" in err and "\x1b[" not in err
    kept = nbformat.read(tmp_path / "out" / "bad.ipynb", 4)
    assert kept.cells[0].outputs[0]["text"] == "ran\n"
