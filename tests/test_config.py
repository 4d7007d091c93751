import pytest

from recasketch import config


def test_dataset_dir_names_and_guard():
    assert config.dataset_dir("sample") == config.SAMPLE_DIR
    with pytest.raises(ValueError, match="Unknown dataset 'real'"):
        config.dataset_dir("real")


def test_results_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("RECASKETCH_RESULTS_DIR", raising=False)
    assert config.results_dir("sample", "ci") is None
    monkeypatch.setattr(config, "RESULTS_DIR", tmp_path / "results")
    assert config.results_dir("sample", "full") == tmp_path / "results" / "sample"
    assert (tmp_path / "results" / "sample").is_dir()
    monkeypatch.setenv("RECASKETCH_RESULTS_DIR", str(tmp_path / "elsewhere"))
    assert config.results_dir("sample", "ci") == tmp_path / "elsewhere"
    with pytest.raises(ValueError, match="Unknown budget 'huge'"):
        config.results_dir("sample", "huge")


def test_a_folder_is_a_dataset_named_after_it(monkeypatch, tmp_path):
    own = config.PROJ_ROOT / "tests" / "data" / "own_likes"
    assert config.dataset_dir(own) == own
    assert config.dataset_name(own) == "own_likes"
    assert config.dataset_name("sample") == "sample"
    monkeypatch.chdir(tmp_path)  # a notebook's folder: the path is found from the project root
    assert config.dataset_dir("tests/data/own_likes") == own
    (tmp_path / "tests" / "data" / "own_likes").mkdir(parents=True)  # the current folder wins
    assert config.dataset_dir("tests/data/own_likes") == tmp_path / "tests" / "data" / "own_likes"
    with pytest.raises(ValueError, match="likes.csv is a file; give the folder that holds it"):
        config.dataset_dir(own / "likes.csv")


def test_results_of_a_folder_go_under_its_name(monkeypatch, tmp_path):
    monkeypatch.delenv("RECASKETCH_RESULTS_DIR", raising=False)
    monkeypatch.setattr(config, "RESULTS_DIR", tmp_path / "results")
    assert config.results_dir("tests/data/own_likes", "full") == tmp_path / "results" / "own_likes"
    assert config.results_dir("tests/data/own_likes", "ci") is None
    with pytest.raises(ValueError, match="Unknown dataset 'no/such/folder'"):
        config.results_dir("no/such/folder", "full")
