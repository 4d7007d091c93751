"""Tests for recasketch.datasets.download.

The downloader runs against a real HTTP server on 127.0.0.1 whose answers each test scripts.
"""

import csv
import hashlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import recasketch.datasets.download as download_module
from loopback import hang, loopback_server
from recasketch import config
from recasketch.data import DataError
from recasketch.datasets.download import (DownloadError, SKETCHFAB_BLOB_IDS, SKETCHFAB_COMMIT,
                                          SKETCHFAB_DATA_URL, download_sketchfab_data, git_blob_id, main)

LIKES = config.LIKES_FILE
FEATURES = config.FEATURES_FILE


def psv(rows, header) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", quotechar="\\", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


LIKES_TEXT = psv([(f"Model {i}", f"{i:032x}", f"{1000 + i:032x}") for i in range(4)],
                 header=("modelname", "mid", "uid"))
FEATURES_TEXT = psv([(f"{0:032x}", "category", "Characters"), (f"{0:032x}", "tag", "tiltbrush")],
                    header=("mid", "type", "value"))
# The blob ids of the test bodies, computed by hand as git defines them.
IDS = {
    name: hashlib.sha1(b"blob %d\0" % len(text.encode()) + text.encode()).hexdigest()
    for name, text in ((LIKES, LIKES_TEXT), (FEATURES, FEATURES_TEXT))
}


# ------------------------------------------------------------------ git_blob_id


def test_git_blob_id_of_known_bytes():
    assert git_blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert git_blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert git_blob_id(bytearray(b"hello\n")) == git_blob_id(memoryview(b"hello\n"))


def test_git_blob_id_of_a_file_read_in_chunks(tmp_path):
    content = bytes(range(256)) * 1000 + b"tail"  # several chunks, the last one short
    path = tmp_path / "blob.bin"
    path.write_bytes(content)
    by_hand = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
    assert git_blob_id(path) == git_blob_id(str(path)) == git_blob_id(content) == by_hand


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_blob_id_equals_git_hash_object(tmp_path):
    path = tmp_path / LIKES
    path.write_text(LIKES_TEXT)
    printed = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert git_blob_id(path) == printed == IDS[LIKES]


def test_git_blob_id_rejects_other_types():
    with pytest.raises(TypeError, match="git_blob_id takes bytes or a file path, got int"):
        git_blob_id(3)


def test_the_crawl_is_pinned_to_a_commit():
    assert SKETCHFAB_COMMIT == "83d74f9a0629bb80c086f38f3f2f2895e81af1f0"
    assert SKETCHFAB_DATA_URL == ("https://raw.githubusercontent.com/EthanRosenthal/rec-a-sketch/"
                                  "83d74f9a0629bb80c086f38f3f2f2895e81af1f0/data")
    assert dict(SKETCHFAB_BLOB_IDS) == {
        LIKES: "cf71d964adbd9f64075b06542b880f8d66d1dfeb",
        FEATURES: "8b85bf2cd232bd10e9ae62359870fe862bc9bc3b",
    }
    with pytest.raises(TypeError):
        SKETCHFAB_BLOB_IDS[LIKES] = "0" * 40


def test_download_error_is_importable_from_data():
    from recasketch import data

    assert data.DownloadError is DownloadError


# ------------------------------------------------------------------ the test server


def ok(body):
    def act(handler):
        data = body.encode() if isinstance(body, str) else body
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return act


def status(code, **headers):
    def act(handler):
        body = f"{code}\n".encode()
        handler.send_response(code)
        for key, value in headers.items():
            handler.send_header(key.replace("_", "-"), value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return act


def truncated(body):
    def act(handler):
        data = body.encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data) + 1000))
        handler.end_headers()
        handler.wfile.write(data[: len(data) // 2])
        handler.wfile.flush()
        handler.close_connection = True

    return act


@pytest.fixture
def server():
    with loopback_server("/data", default=status(404)) as script:
        yield script


@pytest.fixture
def no_proxy(monkeypatch):
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.lower(), raising=False)


def fetch(dest, server, session, **kwargs):
    options = {"session": session, "progress": False, "backoff": 0.01, "timeout": 5,
               "expected": IDS}
    options.update(kwargs)
    return download_sketchfab_data(dest, server.url, **options)


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------ downloading


def test_download_writes_both_files(tmp_path, server, session):
    server.on(LIKES, ok(LIKES_TEXT))
    server.on(FEATURES, ok(FEATURES_TEXT))
    paths = fetch(tmp_path / "real", server, session)
    assert paths == {LIKES: tmp_path / "real" / LIKES, FEATURES: tmp_path / "real" / FEATURES}
    assert paths[LIKES].read_text() == LIKES_TEXT
    assert paths[FEATURES].read_text() == FEATURES_TEXT
    assert leftovers(tmp_path / "real") == sorted([LIKES, FEATURES])
    assert server.requests == [f"/data/{LIKES}", f"/data/{FEATURES}"]


def test_download_with_progress_bar(tmp_path, server, session, capsys):
    server.on(LIKES, ok(LIKES_TEXT))
    paths = fetch(tmp_path, server, session, files=LIKES, progress=True)
    assert paths[LIKES].read_text() == LIKES_TEXT
    assert LIKES in capsys.readouterr().err


def test_404_is_not_retried(tmp_path, server, session):
    with pytest.raises(DownloadError, match=re.escape(f"{server.url}/{LIKES}") +
                       r": HTTP 404 Not Found \(after 1 attempt.*not retried") as info:
        fetch(tmp_path, server, session)
    assert info.value.status == 404 and info.value.attempts == 1
    assert server.count(LIKES) == 1
    assert leftovers(tmp_path) == []


def test_404_after_500s_counts_every_attempt(tmp_path, server, session):
    server.on(LIKES, status(500), status(404))
    with pytest.raises(DownloadError, match=r"HTTP 404 .*after 2 attempt") as info:
        fetch(tmp_path, server, session)
    assert info.value.attempts == 2 and server.count(LIKES) == 2


def test_500_then_success_is_retried(tmp_path, server, session):
    server.on(LIKES, status(500), status(503), ok(LIKES_TEXT))
    server.on(FEATURES, ok(FEATURES_TEXT))
    paths = fetch(tmp_path, server, session, retries=3)
    assert server.count(LIKES) == 3
    assert paths[LIKES].read_text() == LIKES_TEXT


def test_500s_run_out_of_retries(tmp_path, server, session):
    server.on(LIKES, status(500))
    with pytest.raises(DownloadError, match=re.escape(f"{server.url}/{LIKES}") +
                       r": HTTP 500 Internal Server Error \(gave up after 3 attempt") as info:
        fetch(tmp_path, server, session, retries=2)
    assert info.value.attempts == 3 and info.value.status == 500
    assert server.count(LIKES) == 3
    assert leftovers(tmp_path) == []


def test_429s_run_out_of_retries(tmp_path, server, session):
    server.on(LIKES, status(429))
    with pytest.raises(DownloadError, match=r"HTTP 429 .*gave up after 2 attempt"):
        fetch(tmp_path, server, session, retries=1)
    assert server.count(LIKES) == 2


def test_retry_after_is_honoured(tmp_path, server, session):
    server.on(LIKES, status(429, Retry_After="1"), ok(LIKES_TEXT))
    start = time.monotonic()
    paths = fetch(tmp_path, server, session, files=LIKES, backoff=0.01)
    assert time.monotonic() - start >= 0.9
    assert server.count(LIKES) == 2 and paths[LIKES].read_text() == LIKES_TEXT


def test_retry_after_is_capped_by_max_wait(tmp_path, server, session):
    server.on(LIKES, status(503, Retry_After="3600"), ok(LIKES_TEXT))
    start = time.monotonic()
    fetch(tmp_path, server, session, files=LIKES, max_wait=0.2)
    assert 0.15 <= time.monotonic() - start < 10
    assert server.count(LIKES) == 2


def test_backoff_is_capped_by_max_wait(tmp_path, server, session):
    # uncapped, backoff=100 would wait 200 s and then 400 s
    server.on(LIKES, status(500), status(500), status(500), ok(LIKES_TEXT))
    start = time.monotonic()
    fetch(tmp_path, server, session, files=LIKES, retries=3, backoff=100, max_wait=0.1)
    assert time.monotonic() - start < 10
    assert server.count(LIKES) == 4


def test_truncated_body_is_a_clear_error(tmp_path, server, session):
    server.on(LIKES, truncated(LIKES_TEXT), ok(LIKES_TEXT))
    with pytest.raises(DownloadError, match=re.escape(f"{server.url}/{LIKES}") +
                       r": the connection broke while the body was being read .*IncompleteRead"
                       r".*on attempt 1 of at most 4"
                       r".*not retried.*Nothing was written") as info:
        fetch(tmp_path, server, session)
    assert info.value.attempts == 1 and server.count(LIKES) == 1
    assert leftovers(tmp_path) == []
    # running it again fetches the file anew
    paths = fetch(tmp_path, server, session, files=LIKES)
    assert paths[LIKES].read_text() == LIKES_TEXT


def stall(body, seconds):
    def act(handler):
        data = body.encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data[: len(data) // 2])
        handler.wfile.flush()
        handler.server.script.release.wait(seconds)

    return act


def test_read_timeout_in_the_body_is_a_clear_error(tmp_path, server, session):
    server.on(LIKES, stall(LIKES_TEXT, 5))
    with pytest.raises(DownloadError, match=r"broke while the body was being read \(timed out"
                       r".*on attempt 1 of at most 2"):
        fetch(tmp_path, server, session, timeout=0.3, retries=1)
    assert server.count(LIKES) == 1
    assert leftovers(tmp_path) == []


def test_timeout_is_retried_then_given_up(tmp_path, server, session):
    server.on(LIKES, hang(5))
    with pytest.raises(DownloadError, match=r"timed out.*gave up after 2 attempt") as info:
        fetch(tmp_path, server, session, timeout=0.5, retries=1)
    assert info.value.attempts == 2 and server.count(LIKES) == 2
    assert leftovers(tmp_path) == []


def test_connection_refused(tmp_path, session):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match=r"ConnectionError.*refused.*gave up after 2 attempt"):
        download_sketchfab_data(tmp_path, f"http://127.0.0.1:{port}/data", session=session,
                                progress=False, retries=1, backoff=0.01, timeout=2)
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------ verifying


def test_one_changed_byte_is_refused(tmp_path, server, session):
    changed = LIKES_TEXT.replace("Model 2", "Model 3")
    server.on(LIKES, ok(changed))
    actual = git_blob_id(changed.encode())
    with pytest.raises(DownloadError, match=(
        re.escape(f"{server.url}/{LIKES}: the download has git blob id {actual}, not the "
                  f"expected {IDS[LIKES]} for {LIKES} (after 1 attempt(s)); nothing was written")
        + ".*" + SKETCHFAB_COMMIT + r".*expected=None")):
        fetch(tmp_path, server, session)
    assert server.count(LIKES) == 1
    assert leftovers(tmp_path) == []


def test_the_pinned_ids_are_checked_by_default(tmp_path, server, session):
    server.on(LIKES, ok(LIKES_TEXT))
    with pytest.raises(DownloadError, match="not the expected " + SKETCHFAB_BLOB_IDS[LIKES]):
        download_sketchfab_data(tmp_path, server.url, files=LIKES, session=session,
                                progress=False)
    assert leftovers(tmp_path) == []


def test_without_ids_the_readers_validate(tmp_path, server, session):
    server.on(LIKES, ok(LIKES_TEXT))
    paths = fetch(tmp_path, server, session, files=LIKES, expected=None)
    assert paths[LIKES].read_text() == LIKES_TEXT


def test_without_ids_an_html_page_with_200_is_refused(tmp_path, server, session):
    server.on(LIKES, ok("<!DOCTYPE html>\n<html><body>Rate limited</body></html>\n"))
    with pytest.raises(DataError, match=re.escape(f"{server.url}/{LIKES}: the download is not a "
                                                  f"valid {LIKES}") + ".*Nothing was written"):
        fetch(tmp_path, server, session, expected=None)
    assert server.count(LIKES) == 1
    assert leftovers(tmp_path) == []


def test_verified_file_already_present_is_not_requested(tmp_path, server, session):
    (tmp_path / LIKES).write_text(LIKES_TEXT)
    (tmp_path / FEATURES).write_text(FEATURES_TEXT)
    before = (tmp_path / LIKES).stat().st_mtime_ns
    paths = fetch(tmp_path, server, session)
    assert server.requests == []
    assert paths == {LIKES: tmp_path / LIKES, FEATURES: tmp_path / FEATURES}
    assert (tmp_path / LIKES).stat().st_mtime_ns == before


def test_file_present_with_another_id_is_downloaded_again(tmp_path, server, session, caplog):
    (tmp_path / LIKES).write_text(LIKES_TEXT[:40])  # cut short by an earlier crash
    server.on(LIKES, ok(LIKES_TEXT))
    paths = fetch(tmp_path, server, session, files=(LIKES,))
    assert server.requests == [f"/data/{LIKES}"]
    assert paths == {LIKES: tmp_path / LIKES}
    assert (tmp_path / LIKES).read_text() == LIKES_TEXT
    assert "has git blob id" in caplog.text and "downloading it again" in caplog.text


def test_without_ids_a_valid_file_present_is_kept_and_an_invalid_one_replaced(
        tmp_path, server, session):
    (tmp_path / LIKES).write_text(LIKES_TEXT.replace("Model 1", "Model 9"))  # valid, other id
    (tmp_path / FEATURES).write_text("mid|type\n")  # invalid
    server.on(FEATURES, ok(FEATURES_TEXT))
    fetch(tmp_path, server, session, expected=None)
    assert server.requests == [f"/data/{FEATURES}"]
    assert "Model 9" in (tmp_path / LIKES).read_text()
    assert (tmp_path / FEATURES).read_text() == FEATURES_TEXT


def test_failed_download_keeps_the_existing_file(tmp_path, server, session):
    (tmp_path / LIKES).write_text("old, invalid\n")
    server.on(LIKES, status(500))
    with pytest.raises(DownloadError):
        fetch(tmp_path, server, session, files=(LIKES,), retries=0)
    assert leftovers(tmp_path) == [LIKES]
    assert (tmp_path / LIKES).read_text() == "old, invalid\n"


def test_unverified_download_keeps_the_existing_file(tmp_path, server, session):
    (tmp_path / LIKES).write_text("old\n")
    server.on(LIKES, ok(LIKES_TEXT + "extra|row\n"))
    with pytest.raises(DownloadError, match="not the expected"):
        fetch(tmp_path, server, session, files=(LIKES,))
    assert leftovers(tmp_path) == [LIKES]
    assert (tmp_path / LIKES).read_text() == "old\n"


def test_interrupt_removes_the_temporary_file(tmp_path, server, session, monkeypatch):
    server.on(LIKES, ok(LIKES_TEXT))

    def interrupt(data):
        raise KeyboardInterrupt

    monkeypatch.setattr(download_module, "git_blob_id", interrupt)
    with pytest.raises(KeyboardInterrupt):
        fetch(tmp_path, server, session, files=(LIKES,))
    assert server.count(LIKES) == 1
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------ the session


def test_a_session_passed_in_gets_the_retries_only_during_the_call(tmp_path, server, session):
    mine = requests.adapters.HTTPAdapter()
    session.mount(server.url + "/", mine)
    before = dict(session.adapters)
    server.on(LIKES, status(500), ok(LIKES_TEXT))
    fetch(tmp_path, server, session, files=LIKES, retries=1)
    assert server.count(LIKES) == 2  # retried through the mounted adapter
    assert session.adapters == before and session.adapters[server.url + "/"] is mine


def test_a_session_passed_in_is_left_without_the_adapter(tmp_path, server, session):
    before = list(session.adapters)
    server.on(LIKES, ok(LIKES_TEXT))
    fetch(tmp_path, server, session, files=LIKES)
    assert list(session.adapters) == before


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize("kwargs, message", [
    ({"files": ("other.psv",)}, r"Unknown file name\(s\) \['other.psv'\]; choose from"),
    ({"retries": -1}, "retries must be >= 0, got -1"),
    ({"timeout": 0}, "timeout must be > 0 seconds, got 0"),
    ({"backoff": -1}, "backoff must be >= 0 seconds, got -1"),
    ({"max_wait": -1}, "max_wait must be >= 0 seconds, got -1"),
    ({"base_url": "ftp://example.org/data"},
     "base_url must be an http:// or https:// URL, got 'ftp://example.org/data'"),
    ({"expected": {LIKES: IDS[LIKES]}},
     f"expected has no blob id for '{FEATURES}'; add one .*or pass expected=None"),
    ({"expected": {LIKES: "abc", FEATURES: IDS[FEATURES]}},
     rf"expected\['{LIKES}'\] is 'abc', not a git blob id \(40 hex characters\)"),
])
def test_arguments_are_checked(tmp_path, session, kwargs, message):
    with pytest.raises(ValueError, match=message):
        download_sketchfab_data(tmp_path / "new", session=session, **kwargs)
    assert not (tmp_path / "new").exists()


def test_expected_ids_may_be_upper_case(tmp_path, server, session):
    server.on(LIKES, ok(LIKES_TEXT))
    fetch(tmp_path, server, session, files=LIKES, expected={LIKES: IDS[LIKES].upper()})
    assert (tmp_path / LIKES).read_text() == LIKES_TEXT


# ------------------------------------------------------------------ command line


def test_cli_download_without_verifying(tmp_path, server, capsys, no_proxy):
    server.on(LIKES, ok(LIKES_TEXT))
    server.on(FEATURES, ok(FEATURES_TEXT))
    argv = ["--dest", str(tmp_path), "--base-url", server.url, "--no-progress", "--no-verify"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{LIKES}: {tmp_path / LIKES}" in out and f"{FEATURES}: {tmp_path / FEATURES}" in out


def test_cli_verifies_by_default(tmp_path, server, capsys, no_proxy):
    server.on(LIKES, ok(LIKES_TEXT))
    argv = ["--dest", str(tmp_path), "--base-url", server.url, "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and SKETCHFAB_BLOB_IDS[LIKES] in err
    assert "--no-verify" in err
    assert leftovers(tmp_path) == []


def test_cli_failure_exits_non_zero_without_traceback(tmp_path, server):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "recasketch.datasets.download", "--dest", str(tmp_path),
         "--base-url", server.url, "--no-progress", "--retries", "0"],
        capture_output=True, text=True, env=env, cwd=root, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert "error: Could not download" in result.stderr and "HTTP 404" in result.stderr
    assert "Traceback" not in result.stderr
    assert leftovers(tmp_path) == []
