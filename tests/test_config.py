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
