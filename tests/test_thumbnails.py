"""Tests for recasketch.display.thumbnails.

The client runs against a real HTTP server on 127.0.0.1 serving API-shaped JSON, whose
answers each test scripts per model.
"""

import json
import re
import socket
import time

import pandas as pd
import pytest

from loopback import hang, loopback_server
from recasketch.errors import DataError
from recasketch.display.thumbnails import (API_URL, PALETTE, Thumbnail, ThumbnailClient, TileGrid,
                                           is_model_id, model_url, placeholder_svg, tile_grid, topic_colours)

A, B, C = (f"{i:032x}" for i in (10, 11, 12))
OLD = "b7LzIm8JrnPw4GBDOMBNGYc39qM"  # an older, shorter id


def image(width, height=None, name=None):
    return {"url": f"https://media.example/{name or width}.jpeg", "width": width,
            "height": height or width, "size": 1000}


def model(*images, **fields):
    return {"uid": A, "name": "Model", "thumbnails": {"images": list(images)}, **fields}


# ------------------------------------------------------------------ the test server


def ok(payload):
    return raw(200, json.dumps(payload).encode(), "application/json")


def raw(code, body: bytes, content_type="application/json", **headers):
    def act(handler):
        handler.send_response(code)
        handler.send_header("Content-Type", content_type)
        for key, value in headers.items():
            handler.send_header(key.replace("_", "-"), value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return act


def status(code, **headers):
    return raw(code, json.dumps({"detail": str(code)}).encode(), **headers)


@pytest.fixture
def server():
    with loopback_server("/v3", default=status(404)) as script:
        yield script


def client(server, session, **kwargs):
    options = {"session": session, "backoff": 0.01, "timeout": 5, "min_interval": 0,
               "retries": 2}
    options.update(kwargs)
    return ThumbnailClient(base_url=server.url, **options)


# ------------------------------------------------------------------ ids and URLs


@pytest.mark.parametrize("uid", [A, OLD, "0123456789abcdefABCD"])
def test_model_ids_of_the_crawl_are_valid(uid):
    assert is_model_id(uid)
    assert model_url(uid) == f"https://sketchfab.com/3d-models/{uid}"


@pytest.mark.parametrize("uid", ["../../etc", "<script>", "", "0" * 33, "0" * 31 + "/",
                                 A.upper() + "0", f"{A}\n", "short", None, 12, A + "?x=1"])
def test_other_ids_are_invalid(uid):
    assert not is_model_id(uid)
    with pytest.raises(ValueError, match=r"1 id\(s\) are not Sketchfab model ids"):
        model_url(uid)


def test_invalid_ids_never_reach_the_server(server, session):
    server.on(A, ok(model(image(200))))
    bad = ["../../etc", "<script>", "", "0" * 33]
    with pytest.raises(ValueError, match=r"4 id\(s\) are not Sketchfab model ids: '\.\./\.\./etc'"
                       r".*invalid='skip'"):
        client(server, session).lookup([A, *bad])
    assert server.requests == []
    c = client(server, session)
    result = c.lookup([A, *bad], invalid="skip")
    assert result[A] == Thumbnail("https://media.example/200.jpeg", 200, 200)
    assert all(result[uid] is None for uid in bad)
    assert c.reasons_["../../etc"] == "not a Sketchfab model id"
    assert server.requests == [f"/v3/models/{A}"]


def test_lookup_rejects_an_unknown_invalid_option(server, session):
    with pytest.raises(ValueError, match="invalid must be 'raise' or 'skip', got 'drop'"):
        client(server, session).lookup([A], invalid="drop")


@pytest.mark.parametrize("kwargs, message", [
    ({"base_url": "ftp://x"}, "base_url must be an http:// or https:// URL, got 'ftp://x'"),
    ({"timeout": 0}, "timeout must be > 0, got 0"),
    ({"width": -1}, "width must be > 0, got -1"),
    ({"retries": -1}, r"retries must be an integer >= 0, got -1"),
    ({"max_requests": 1.5}, r"max_requests must be an integer >= 0, got 1.5"),
    ({"backoff": -1}, "backoff must be >= 0 seconds"),
    ({"max_wait": -1}, "max_wait must be >= 0 seconds"),
    ({"min_interval": -0.1}, "min_interval must be >= 0 seconds"),
])
def test_client_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ThumbnailClient(**kwargs)


def test_default_endpoint_is_the_v3_api():
    assert API_URL == "https://api.sketchfab.com/v3"
    assert ThumbnailClient().base_url == API_URL


# ------------------------------------------------------------------ lookups


def test_the_image_closest_to_200_px_is_chosen(server, session):
    server.on(A, ok(model(image(1920, 1080), image(720, 405), image(256, 144), image(100, 56),
                          image(180, 101, name="near"), image(50))))
    server.on(OLD, ok(model(image(200), image(190))))
    c = client(server, session)
    result = c.lookup([A, OLD])
    assert result == {A: Thumbnail("https://media.example/near.jpeg", 180, 101),
                      OLD: Thumbnail("https://media.example/200.jpeg", 200, 200)}
    assert server.requests == [f"/v3/models/{A}", f"/v3/models/{OLD}"]
    assert c.reasons_ == {} and c.n_requests_ == 2


def test_the_target_width_is_a_parameter(server, session):
    server.on(A, ok(model(image(1024), image(640), image(200))))
    assert client(server, session, width=720).lookup(A)[A].width == 640


def test_a_tie_goes_to_the_smaller_image(server, session):
    server.on(A, ok(model(image(250), image(150))))
    assert client(server, session).lookup([A])[A].width == 150


@pytest.mark.parametrize("payload, reason", [
    (model(image(1920), image(720), image(50)), "no image between 100 and 400 px wide among 3"),
    (model(), "no image between 100 and 400 px wide among 0"),
    ({"uid": A, "thumbnails": None}, "among 0"),
    # unusable entries are skipped: no URL, a javascript: URL, a width that is not a number
    (model({"width": 200, "height": 200}, {**image(200), "url": "javascript:alert(1)"},
           {**image(200), "width": "200"}), "among 0"),
])
def test_no_image_near_200_px_is_cached_as_none(tmp_path, server, session, payload, reason):
    server.on(A, ok(payload))
    cache = tmp_path / "thumbs.json"
    c = client(server, session, cache_path=cache)
    assert c.lookup([A]) == {A: None}
    assert reason in c.reasons_[A]
    assert client(server, session, cache_path=cache).lookup([A]) == {A: None}
    assert server.count(A) == 1


def test_404_is_cached_and_not_retried(tmp_path, server, session):
    cache = tmp_path / "thumbs.json"
    c = client(server, session, cache_path=cache)
    assert c.lookup([A]) == {A: None}
    assert c.reasons_[A] == "not found on Sketchfab (HTTP 404)"
    assert server.count(A) == 1
    assert client(server, session, cache_path=cache).lookup([A]) == {A: None}
    assert server.count(A) == 1


def test_429_then_200_honours_retry_after(server, session):
    server.on(A, status(429, Retry_After="1"), ok(model(image(200))))
    start = time.monotonic()
    result = client(server, session).lookup([A])
    assert time.monotonic() - start >= 0.9
    assert result[A].width == 200 and server.count(A) == 2


def test_retry_after_is_capped_by_max_wait(server, session):
    server.on(A, status(429, Retry_After="3600"), ok(model(image(200))))
    start = time.monotonic()
    result = client(server, session, max_wait=0.2).lookup([A])
    assert 0.15 <= time.monotonic() - start < 10
    assert result[A].width == 200 and server.count(A) == 2


def test_500s_give_up_and_end_the_call_uncached(tmp_path, server, session, caplog):
    server.on(A, status(500))
    server.on(B, ok(model(image(200))))
    cache = tmp_path / "thumbs.json"
    c = client(server, session, retries=2, cache_path=cache)
    assert c.lookup([A, B, C]) == {A: None, B: None, C: None}
    assert server.count(A) == 3 and server.count() == 3  # B and C are not asked
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v3/models/0+a answered HTTP 500 "
                        r"\(after 3 attempt\(s\)\)", c.reasons_[A])
    assert c.reasons_[B].startswith("not looked up: the API failed earlier (")
    assert "Thumbnail lookup stopped" in caplog.text and "3 model(s)" in caplog.text
    assert not cache.exists()  # a transient failure is not cached
    # the next call asks again
    server.actions[A] = [ok(model(image(200)))]
    assert client(server, session, cache_path=cache).lookup([A, B])[B].width == 200


def test_a_read_timeout_gives_up_quickly(server, session):
    server.on(A, hang(5))
    c = client(server, session, timeout=0.3, retries=1)
    start = time.monotonic()
    assert c.lookup([A, B]) == {A: None, B: None}
    assert time.monotonic() - start < 3
    assert server.count(A) == 2 and server.count(B) == 0
    assert "could not be reached" in c.reasons_[A] and "ReadTimeoutError" in c.reasons_[A]


@pytest.mark.parametrize("body", [b"{not json", b"<html>Sign in to the Wi-Fi</html>",
                                  json.dumps([1, 2]).encode(),
                                  json.dumps({"thumbnails": {"images": "none"}}).encode()])
def test_malformed_json_is_not_cached(tmp_path, server, session, body):
    server.on(A, raw(200, body))
    cache = tmp_path / "thumbs.json"
    c = client(server, session, cache_path=cache)
    assert c.lookup([A, B]) == {A: None, B: None}
    assert "did not answer the API's JSON" in c.reasons_[A]
    assert server.count(B) == 0 and not cache.exists()


def test_offline_stops_after_the_first_model(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    c = ThumbnailClient(base_url=f"http://127.0.0.1:{port}/v3", retries=1, backoff=0.01,
                        min_interval=0, cache_path=tmp_path / "thumbs.json")
    uids = [f"{i:032x}" for i in range(20)]
    start = time.monotonic()
    result = c.lookup(uids)
    assert time.monotonic() - start < 5
    assert set(result.values()) == {None} and c.n_requests_ == 1
    assert "could not be reached" in c.reasons_[uids[0]] and "refused" in c.reasons_[uids[0]]
    assert c.reasons_[uids[-1]].startswith("not looked up: the API failed earlier")
    assert not (tmp_path / "thumbs.json").exists()


# ------------------------------------------------------------------ cache, rate, cap


def test_a_cache_hit_makes_no_request(tmp_path, server, session):
    server.on(A, ok(model(image(200))))
    cache = tmp_path / "sub" / "thumbs.json"
    first = client(server, session, cache_path=cache).lookup([A])
    assert server.count() == 1
    # a new client (a new run) reads the file
    again = client(server, session, cache_path=cache)
    assert again.lookup([A]) == first and again.n_requests_ == 0
    assert server.count() == 1
    # the same client without a file remembers in memory
    memory = client(server, session)
    memory.lookup([A])
    memory.lookup([A])
    assert server.count() == 2


def test_the_cache_is_json_written_atomically(tmp_path, server, session, monkeypatch):
    server.on(A, ok(model(image(200), image(1024))))
    server.on(B, ok(model(image(200))))
    cache = tmp_path / "thumbs.json"
    client(server, session, cache_path=cache).lookup([A])
    content = json.loads(cache.read_text())
    assert content == {"format": "recasketch-thumbnails/1", "models": {A: {"images": [
        {"url": "https://media.example/200.jpeg", "width": 200, "height": 200},
        {"url": "https://media.example/1024.jpeg", "width": 1024, "height": 1024}]}}}
    # a crash while writing leaves the old file whole and no temporary file behind
    import recasketch.display.thumbnails as thumbnails

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(thumbnails.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        client(server, session, cache_path=cache).lookup([B])
    assert json.loads(cache.read_text()) == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thumbs.json"]


def test_two_clients_add_to_one_cache(tmp_path, server, session):
    server.on(A, ok(model(image(200))))
    server.on(B, ok(model(image(200))))
    cache = tmp_path / "thumbs.json"
    first, second = (client(server, session, cache_path=cache) for _ in range(2))
    first.lookup([A])
    second.lookup([B])
    assert sorted(json.loads(cache.read_text())["models"]) == [A, B]


@pytest.mark.parametrize("text", ["{oops", json.dumps({"models": {}}),
                                  json.dumps({"format": "recasketch-thumbnails/1",
                                              "models": {A: {"images": "x"}}})])
def test_a_foreign_cache_file_is_a_clear_error(tmp_path, server, session, text):
    cache = tmp_path / "thumbs.json"
    cache.write_text(text)
    with pytest.raises(DataError, match=re.escape(str(cache)) + " is not a thumbnail cache"
                       r".*Delete it"):
        client(server, session, cache_path=cache).lookup([A])
    assert server.requests == []


def test_max_requests_caps_one_call(tmp_path, server, session):
    uids = [f"{i:032x}" for i in range(5)]
    for uid in uids:
        server.on(uid, ok(model(image(200))))
    c = client(server, session, max_requests=2, cache_path=tmp_path / "thumbs.json")
    result = c.lookup(uids)
    assert server.count() == 2 and c.n_requests_ == 2
    assert [result[uid] is not None for uid in uids] == [True, True, False, False, False]
    assert c.reasons_[uids[2]] == "not looked up: beyond max_requests=2 in this call"
    c.lookup(uids)  # the next call goes on where this one stopped
    assert server.count() == 4
    offline = client(server, session, max_requests=0, cache_path=tmp_path / "thumbs.json")
    assert sum(v is not None for v in offline.lookup(uids).values()) == 4
    assert server.count() == 4


def test_requests_are_spaced_by_min_interval(server, session):
    uids = [f"{i:032x}" for i in range(3)]
    for uid in uids:
        server.on(uid, ok(model(image(200))))
    start = time.monotonic()
    client(server, session, min_interval=0.2).lookup(uids)
    assert time.monotonic() - start >= 0.4


def test_own_session_sends_a_user_agent(server, monkeypatch):
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                     "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    seen = {}

    def remember(handler):
        seen["agent"] = handler.headers["User-Agent"]
        ok(model(image(200)))(handler)

    server.on(A, remember)
    result = ThumbnailClient(base_url=server.url, min_interval=0).lookup([A])
    assert result[A].width == 200 and seen["agent"].startswith("recasketch/")


def test_the_session_passed_in_gets_its_adapter_back(server, session):
    before = dict(session.adapters)
    client(server, session).lookup([A])
    assert session.adapters == before


# ------------------------------------------------------------------ placeholders


def test_placeholders_are_deterministic():
    first = placeholder_svg("Forest hut", "#80b1d3")
    assert first == placeholder_svg("Forest hut", "#80b1d3")
    assert first != placeholder_svg("Forest hut")
    assert first.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="200"')
    assert 'fill="#80b1d3"' in first and ">Forest hut<" in first and "no thumbnail" in first


def test_placeholder_escapes_and_wraps_the_name():
    svg = placeholder_svg('<script>alert(1)</script> & "quotes"')
    assert "<script>" not in svg and '"quotes"' not in svg
    assert ">&lt;script&gt;alert(1)<" in svg and ">&lt;/script&gt; &amp;<" in svg
    assert ">&quot;quotes&quot;<" in svg
    long = placeholder_svg("word " * 40 + "x" * 50)
    assert long.count("<text") == 3 + 1 and "\u2026" in long  # three lines, then the note


@pytest.mark.parametrize("colour", ["red", "#12345", "#abc;x", "#8dd3c7\"", 3])
def test_placeholder_colour_is_checked(colour):
    with pytest.raises(ValueError, match="colour must be a hex colour such as '#8dd3c7'"):
        placeholder_svg("x", colour)


def test_topic_colours_are_stable_per_topic():
    colours = topic_colours([3, 1, 3, None, 2, 1])
    assert colours == {1: PALETTE[0], 2: PALETTE[1], 3: PALETTE[2]}
    assert topic_colours(pd.Series([2, 1, 3, 3])) == colours  # order of appearance is irrelevant
    many = topic_colours(range(len(PALETTE) + 1))
    assert many[len(PALETTE)] == PALETTE[0]  # colours repeat past the palette
    assert set(topic_colours(["a", 1])) == {"a", 1}  # mixed labels still sort


# ------------------------------------------------------------------ the grid

EVIL = "<script>alert(1)</script>"


def test_grid_links_thumbnails_and_marks_placeholders():
    thumbs = {A: Thumbnail("https://media.example/a.jpeg?x=1&y=2", 200, 200), B: None}
    grid = tile_grid([[A, B, C]], names={A: "Hut", B: "Tree"}, thumbnails=thumbs)
    assert isinstance(grid, TileGrid) and grid._repr_html_() == grid.html
    assert grid.placeholders == (B, C)
    assert 'src="https://media.example/a.jpeg?x=1&amp;y=2"' in grid.html
    for uid in (A, B, C):
        assert f'href="https://sketchfab.com/3d-models/{uid}"' in grid.html
    assert grid.html.count('data-placeholder="true"') == 2
    assert grid.html.count("<em>placeholder</em>") == 2 + 1  # two tiles and the note
    assert "2 of 3 tiles" in grid.html
    assert "<script" not in grid.html and "http://" not in grid.html  # offline-safe


def test_grid_escapes_names_and_urls():
    thumbs = {A: Thumbnail('https://media.example/"><script>alert(1)</script>', 200, 200)}
    grid = tile_grid([[A, B, "<img src=x onerror=alert(1)>"]],
                     names={A: EVIL, B: EVIL, "<img src=x onerror=alert(1)>": EVIL},
                     thumbnails=thumbs, topics={A: EVIL})
    assert "<script>" not in grid.html and "<img src=x" not in grid.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in grid.html
    # an invalid id is shown, escaped, but never linked
    assert grid.html.count("<a href=") == 2


def test_grid_colours_placeholders_by_topic():
    topics = pd.Series({A: 2, B: 2, C: 5})
    grid = tile_grid([[A, B], [C, A]], topics=topics)
    colours = topic_colours(topics)
    assert grid.html == tile_grid([[A, B], [C, A]], topics=topics).html  # deterministic
    assert grid.placeholders == (A, B, C)
    assert "4 of 4 tiles are placeholders" in grid.html  # A is shown twice
    for topic in (2, 5):
        svg = placeholder_svg(A if topic == 2 else C, colours[topic], size=120)
        assert svg == placeholder_svg(A if topic == 2 else C, colours[topic], size=120)
    assert "topic 2" in grid.html and "topic 5" in grid.html
    assert grid.html.count(f"border-bottom:6px solid {colours[2]}") == 3


def test_grid_without_placeholders_has_no_note():
    grid = tile_grid([[A]], thumbnails={A: Thumbnail("https://media.example/a.jpeg", 1, 1)})
    assert grid.placeholders == () and "placeholder" not in grid.html


def test_grid_arguments_are_checked():
    with pytest.raises(ValueError, match="rows must be a list of rows, each a list of ids"):
        tile_grid([A, B])
    with pytest.raises(ValueError, match="The colour of topic 1 is 'red'; give a hex colour"):
        tile_grid([[A]], topics={A: 1}, colours={1: "red"})


def test_thumbnails_for_looks_up_only_the_real_crawl(tmp_path, server, session):
    from types import SimpleNamespace

    from recasketch.display.thumbnails import thumbnails_for

    server.on(A, ok(model(image(200))))
    options = {"base_url": server.url, "session": session, "min_interval": 0, "retries": 0}
    for name in ("sample", "synthetic-full", "my_likes"):
        assert thumbnails_for(SimpleNamespace(name=name), [A], tmp_path / "c.json", **options) is None
    assert server.count() == 0 and not (tmp_path / "c.json").exists()
    found = thumbnails_for(SimpleNamespace(name="sketchfab"), [A, "not an id"], tmp_path / "c.json", **options)
    assert found[A].width == 200 and found["not an id"] is None
    assert server.count() == 1 and (tmp_path / "c.json").exists()
    assert thumbnails_for(SimpleNamespace(name="sketchfab"), [B], tmp_path / "c.json", max_requests=0,
                          **options) == {B: None}
    assert server.count() == 1


def test_default_colours_come_from_the_models_shown_only():
    from recasketch.display.thumbnails import PALETTE

    topics = {f"{i:032x}": f"topic {i:02d}" for i in range(30)}  # more topics than colours
    shown = [[f"{3:032x}", f"{7:032x}"]]
    grid = tile_grid(shown, topics=topics)
    # two topics shown, so the two first colours of the palette, as topic_colours gives them
    assert topic_colours(["topic 03", "topic 07"]) == {"topic 03": PALETTE[0], "topic 07": PALETTE[1]}
    assert PALETTE[0] in grid.html and PALETTE[1] in grid.html and PALETTE[2] not in grid.html
