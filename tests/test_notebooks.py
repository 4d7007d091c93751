"""The notebooks run top to bottom on a folder of someone's own likes.

CI re-executes the committed notebooks on the synthetic sample under nbval; these tests
run them on the tiny CSV the README's worked example uses, with and without its
item-features table, as a user would with ``RECASKETCH_DATA=path/to/folder``.
"""

import json
import shutil

import pytest

from recasketch.config import PROJ_ROOT
from recasketch.tools.execute import execute_notebook

NOTEBOOKS = sorted((PROJ_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OWN = PROJ_ROOT / "tests" / "data" / "own_likes"


def _text(path) -> str:
    """Every output of an executed notebook, as one string."""
    outputs = [o for c in json.loads(path.read_text())["cells"] for o in c.get("outputs", [])]
    return json.dumps(outputs)


@pytest.mark.parametrize("with_features", [True, False], ids=["with features", "likes only"])
def test_notebooks_run_on_a_folder_of_own_likes(tmp_path, monkeypatch, with_features):
    folder = tmp_path / "my_likes"
    folder.mkdir()
    shutil.copy(OWN / "likes.csv", folder)
    if with_features:
        shutil.copy(OWN / "features.csv", folder)
    monkeypatch.setenv("RECASKETCH_DATA", str(folder))
    monkeypatch.setenv("RECASKETCH_BUDGET", "ci")
    monkeypatch.setenv("RECASKETCH_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert NOTEBOOKS, "no notebooks found"
    for notebook in NOTEBOOKS:
        done = execute_notebook(notebook, tmp_path / notebook.name, timeout=600, cwd=notebook.parent)
        text = _text(done)
        assert '"output_type": "error"' not in text
        assert "my_likes" in text and "SYNTHETIC" not in text  # labelled by its folder
    warp = _text(tmp_path / "02_warp_side_information.ipynb")
    skipped = "my_likes has no item-features table: the sections on side information are skipped."
    assert (skipped in warp) is not with_features
    assert ("WARP, tuned + tags" in warp) is with_features
    assert (tmp_path / "results" / "warp_search_calls.csv").exists()
