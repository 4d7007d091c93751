"""Model thumbnails from the Sketchfab API, with an on-disk cache and offline placeholders.

:class:`ThumbnailClient` asks ``GET https://api.sketchfab.com/v3/models/{uid}`` (anonymous)
for each model and keeps the image of ``thumbnails.images`` closest to 200 px wide. Post 1
used the older ``https://sketchfab.com/i/models/{mid}``; that endpoint is noted here but not
used. Requests go through one :class:`requests.Session` with timeouts and urllib3's
``Retry`` (429 and 5xx, honouring ``Retry-After``, with a bounded backoff; see
:func:`recasketch.datasets.download.mount_retries`), at a polite rate and at most ``max_requests``
lookups per call. Answers are kept in a JSON file written atomically, so each model is looked
up once across runs. Ids are checked against the crawl's formats
(:data:`recasketch.data.MID_PATTERN`) before any URL is built.

Nothing here fails because the network is absent: a model without a thumbnail gets a
placeholder drawn locally (:func:`placeholder_svg`, coloured by topic on synthetic data), and
:func:`tile_grid` lays out each input model beside its neighbours as static HTML, linking
each tile to ``https://sketchfab.com/3d-models/{uid}`` and marking the placeholders.

Examples
--------
>>> client = ThumbnailClient("thumbnails.json")                  # doctest: +SKIP
>>> thumbs = client.lookup(["5dcebcfaedbd4e7b8a27bd1ae55f1ac3"])  # doctest: +SKIP
>>> tile_grid([["5dcebcfaedbd4e7b8a27bd1ae55f1ac3"]], thumbnails=thumbs)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import requests

from .. import config
from ..data import MID_PATTERN
from ..datasets.download import retrying_session
from ..errors import DataError
from ..utils import check_count

__all__ = ["API_URL", "PALETTE", "Thumbnail", "ThumbnailClient", "TileGrid", "is_model_id", "model_url",
           "placeholder_svg", "thumbnails_for", "tile_grid", "topic_colours"]

logger = logging.getLogger(__name__)

#: The Sketchfab Data API; a model is at ``f"{API_URL}/models/{uid}"``.
API_URL = "https://api.sketchfab.com/v3"

#: Fill colours of placeholder tiles, one per topic (ColorBrewer's Set3: light, so dark text
#: stays readable). With more topics than colours, colours repeat.
PALETTE = (
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f",
)

_NEUTRAL = "#e0e0e0"
_MODEL_ID = re.compile(MID_PATTERN)
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}")
_CACHE_FORMAT = "recasketch-thumbnails/1"
_GONE = (404, 410)


class Thumbnail(NamedTuple):
    """One image of a model: its URL and size in pixels."""

    url: str
    width: int
    height: int


def is_model_id(uid) -> bool:
    """Whether ``uid`` is a Sketchfab model id in the crawl's formats.

    That is a 32-hex uid or an older id of 20-31 letters and digits
    (:data:`recasketch.data.MID_PATTERN`). Only such ids are ever put into a URL.

    Examples
    --------
    >>> is_model_id("5dcebcfaedbd4e7b8a27bd1ae55f1ac3"), is_model_id("../../etc")
    (True, False)
    """
    return isinstance(uid, str) and _MODEL_ID.fullmatch(uid) is not None


def model_url(uid: str) -> str:
    """The model's page on Sketchfab: ``https://sketchfab.com/3d-models/{uid}``.

    Raises
    ------
    ValueError
        If ``uid`` is not a model id (see :func:`is_model_id`).
    """
    _check_ids([uid])
    return f"https://sketchfab.com/3d-models/{quote(uid, safe='')}"


def _check_ids(uids) -> None:
    bad = [uid for uid in uids if not is_model_id(uid)]
    if bad:
        shown = ", ".join(repr(uid) for uid in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise ValueError(
            f"{len(bad)} id(s) are not Sketchfab model ids: {shown}. A model id is 32 "
            "lowercase hex characters, or an older id of 20-31 letters and digits; pass "
            "the crawl's mid column, or invalid='skip' to give such ids no thumbnail."
        )


class ThumbnailClient:
    """Look up model thumbnails on the Sketchfab API, once per model, across runs.

    Parameters
    ----------
    cache_path : str, os.PathLike or None, default=None
        A JSON file keeping every definite answer (the model's images, or that it has none
        or does not exist), read at each :meth:`lookup` and rewritten atomically when it
        learned something. ``None`` keeps answers in memory for this client only.
    base_url : str, default=API_URL
        The API's http(s) root; model ``uid`` is asked at ``f"{base_url}/models/{uid}"``.
    width : int, default=200
        The width, in pixels, the chosen image should be closest to. Only images between
        half and twice that width count; a model with none gets no thumbnail.
    timeout : float, default=10
        Seconds to wait to connect, and then for each read.
    retries : int, default=3
        Retries of one lookup after a connection error, a timeout, or HTTP 429 or 5xx.
    backoff : float, default=0.5
        urllib3's ``backoff_factor``: waits of 0, ``2 * backoff``, ``4 * backoff``, ...
        seconds between retries, unless the server sends ``Retry-After``.
    max_wait : float, default=10.0
        The longest wait between two attempts, in seconds; it caps the backoff and
        ``Retry-After`` alike.
    min_interval : float, default=0.5
        The shortest time, in seconds, between the starts of two lookups.
    max_requests : int, default=50
        The most models one :meth:`lookup` call asks the API for (each with up to
        ``retries`` retries); the others get no thumbnail and are not cached, so a later
        call picks them up. ``0`` answers from the cache only.
    session : requests.Session or None, default=None
        The session to use (for proxies or headers); ``None`` opens one per call. The retry
        policy is mounted on it for ``base_url`` during each call.

    Attributes
    ----------
    reasons_ : dict of str to str
        After :meth:`lookup`: why each model without a thumbnail has none.
    n_requests_ : int
        After :meth:`lookup`: how many models were asked for (retries not counted).

    Notes
    -----
    One failure that is not an answer about the model (the API cannot be reached, a
    timeout, HTTP 429 or 5xx after the retries, another HTTP error, a body that is not the
    API's JSON) ends the call: the remaining models get no thumbnail, quickly, and nothing
    about them is cached. Offline, a call therefore costs one lookup's retries, not one per
    model.
    """

    def __init__(self, cache_path=None, base_url: str = API_URL, *, width: int = 200,
                 timeout: float = 10, retries: int = 3, backoff: float = 0.5,
                 max_wait: float = 10.0, min_interval: float = 0.5, max_requests: int = 50,
                 session: requests.Session | None = None):
        if not isinstance(base_url, str) or not re.match(r"https?://", base_url):
            raise ValueError(f"base_url must be an http:// or https:// URL, got {base_url!r}; "
                             f"the default is {API_URL}.")
        for name, value in (("width", width), ("timeout", timeout)):
            if not value or value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}.")
        for name, value in (("retries", retries), ("max_requests", max_requests)):
            check_count(value, name, low=0)
        for name, value in (("backoff", backoff), ("max_wait", max_wait),
                            ("min_interval", min_interval)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {value}.")
        self.cache_path = None if cache_path is None else Path(cache_path)
        self.base_url = base_url.rstrip("/")
        self.width = width
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.min_interval = min_interval
        self.max_requests = max_requests
        self.session = session
        self._answers: dict[str, dict] = {}
        self._last_start: float | None = None

    def lookup(self, uids, *, invalid: str = "raise") -> dict[str, Thumbnail | None]:
        """The thumbnail of each model, or ``None`` where there is none to show.

        Parameters
        ----------
        uids : str or iterable of str
            Model ids (the crawl's ``mid``); duplicates are looked up once.
        invalid : {"raise", "skip"}, default="raise"
            What to do with an id that is not a model id (see :func:`is_model_id`):
            raise, or give it no thumbnail. Either way it never reaches the network.

        Returns
        -------
        dict of str to Thumbnail or None
            Each id, in order, mapped to its :class:`Thumbnail`; ``None`` for a model with
            no image near ``width``, one the API does not know, one not looked up (offline,
            the API failing, ``max_requests`` reached) or an invalid id.
            :attr:`reasons_` says which.

        Raises
        ------
        ValueError
            With ``invalid="raise"``, if an id is not a model id; nothing is requested.
        recasketch.errors.DataError
            If ``cache_path`` holds something other than this cache.
        """
        if invalid not in ("raise", "skip"):
            raise ValueError(f"invalid must be 'raise' or 'skip', got {invalid!r}.")
        uids = list(dict.fromkeys([uids] if isinstance(uids, str) else uids))
        if invalid == "raise":
            _check_ids(uids)
        self.reasons_ = {uid: "not a Sketchfab model id" for uid in uids if not is_model_id(uid)}
        self.n_requests_ = 0
        answers = {**self._read_cache(), **self._answers}
        todo = [uid for uid in uids if uid not in self.reasons_ and uid not in answers]
        learned = {}
        try:
            if todo and self.max_requests:
                self._ask(todo[:self.max_requests], learned)
        finally:
            self._answers.update(learned)
            if learned and self.cache_path is not None:
                self._write_cache(learned)
        answers.update(learned)
        result = {}
        for uid in uids:
            if uid not in self.reasons_ and uid not in answers:
                self.reasons_[uid] = f"not looked up: beyond max_requests={self.max_requests} in this call"
            result[uid] = None if uid in self.reasons_ else self._choose(uid, answers[uid])
        return result

    # ---------------------------------------------------------------- requests

    def _ask(self, uids, learned) -> None:
        """Ask the API for each of ``uids``, filling ``learned``; stop at the first failure."""
        with retrying_session(self.session, self.base_url + "/", retries=self.retries,
                              backoff=self.backoff, max_wait=self.max_wait) as session:
            for position, uid in enumerate(uids):
                self._wait_turn()
                self.n_requests_ += 1
                answer, failure = self._ask_one(session, uid)
                if answer is not None:
                    learned[uid] = answer
                    continue
                self.reasons_[uid] = failure
                rest = uids[position + 1:]
                for other in rest:
                    self.reasons_[other] = f"not looked up: the API failed earlier ({failure})"
                logger.warning("Thumbnail lookup stopped: %s; %d model(s) get a placeholder (nothing "
                               "about them is cached).", failure, len(rest) + 1)
                return

    def _wait_turn(self) -> None:
        if self._last_start is not None:
            time.sleep(max(0.0, self._last_start + self.min_interval - time.monotonic()))
        self._last_start = time.monotonic()

    def _ask_one(self, session, uid):
        """``(answer, None)`` for a definite answer about the model, else ``(None, why)``."""
        url = f"{self.base_url}/models/{quote(uid, safe='')}"
        try:
            response = session.get(url, timeout=(self.timeout, self.timeout),
                                   headers={"Accept": "application/json"})
        except requests.RequestException as err:
            return None, f"{url} could not be reached ({_describe(err)})"
        with response:
            status = response.status_code
            if status in _GONE:
                return {"status": status}, None
            if status != 200:
                history = getattr(response.raw, "retries", None)
                attempts = len(history.history) + 1 if history is not None else 1
                return None, f"{url} answered HTTP {status} (after {attempts} attempt(s))"
            try:
                images = _images(response.json())
            except ValueError as err:
                return None, f"{url} did not answer the API's JSON ({err})"
        return {"images": images}, None

    def _choose(self, uid: str, answer: dict) -> Thumbnail | None:
        if "status" in answer:
            self.reasons_[uid] = f"not found on Sketchfab (HTTP {answer['status']})"
            return None
        near = [image for image in answer["images"]
                if self.width / 2 <= image["width"] <= self.width * 2]
        if not near:
            self.reasons_[uid] = (f"no image between {self.width / 2:g} and {self.width * 2:g} "
                                  f"px wide among {len(answer['images'])}")
            return None
        best = min(near, key=lambda image: (abs(image["width"] - self.width), image["width"]))
        return Thumbnail(best["url"], best["width"], best["height"])

    # ---------------------------------------------------------------- the cache

    def _read_cache(self) -> dict[str, dict]:
        if self.cache_path is None or not self.cache_path.exists():
            return {}
        try:
            content = json.loads(self.cache_path.read_text(encoding="utf-8"))
            if content.get("format") != _CACHE_FORMAT or not isinstance(content["models"], dict):
                raise ValueError(f"its format is not {_CACHE_FORMAT!r}")
            for uid, answer in content["models"].items():
                if not (isinstance(answer, dict) and (
                        answer.get("status") in _GONE
                        or _images({"thumbnails": answer}) == answer.get("images"))):
                    raise ValueError(f"the entry of {uid!r} is neither images nor a status")
        except (ValueError, KeyError, AttributeError, UnicodeDecodeError) as err:
            raise DataError(
                f"{self.cache_path} is not a thumbnail cache ({type(err).__name__}: {err}). "
                "Delete it (the thumbnails are then looked up again) or pass another cache_path."
            ) from None
        return content["models"]

    def _write_cache(self, learned) -> None:
        """Add ``learned`` to the cache file: write a temporary file, then replace."""
        models = {**self._read_cache(), **learned}
        text = json.dumps({"format": _CACHE_FORMAT, "models": models}, indent=1, sort_keys=True)
        folder = self.cache_path.parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.cache_path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.cache_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _images(payload) -> list[dict]:
    """The usable images of an API model answer; ``ValueError`` if it is not one."""
    if not isinstance(payload, dict) or "thumbnails" not in payload:
        raise ValueError("no 'thumbnails' field")
    thumbnails = payload["thumbnails"]
    if thumbnails is None:
        return []
    if not isinstance(thumbnails, dict) or not isinstance(thumbnails.get("images"), list):
        raise ValueError("'thumbnails' has no list of 'images'")
    usable = []
    for image in thumbnails["images"]:
        if not isinstance(image, dict):
            continue
        url, width, height = image.get("url"), image.get("width"), image.get("height")
        if (isinstance(url, str) and re.match(r"https?://", url)
                and all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                        for v in (width, height))):
            usable.append({"url": url, "width": width, "height": height})
    return usable


def _describe(err: BaseException) -> str:
    while err.args and isinstance(err.args[0], BaseException):  # requests wraps urllib3's
        err = err.args[0]
        if isinstance(getattr(err, "reason", None), BaseException):  # MaxRetryError
            err = err.reason
    return f"{type(err).__name__}: {err}"


# -------------------------------------------------------------------- placeholders


def topic_colours(topics) -> dict:
    """A fill colour per topic: the distinct topics, sorted, take :data:`PALETTE` in turn.

    Pass every topic the notebook shows (e.g. the whole ground-truth column), once, so each
    topic keeps its colour across grids.

    Parameters
    ----------
    topics : iterable
        Topic labels, repeats allowed; ``None`` is skipped.

    Returns
    -------
    dict
        Each distinct topic mapped to a ``"#rrggbb"`` colour.

    Examples
    --------
    >>> topic_colours([2, 0, 2, 1])
    {0: '#8dd3c7', 1: '#ffffb3', 2: '#bebada'}
    """
    distinct = {topic for topic in topics if topic is not None}
    try:
        ordered = sorted(distinct)
    except TypeError:
        ordered = sorted(distinct, key=repr)
    return {topic: PALETTE[i % len(PALETTE)] for i, topic in enumerate(ordered)}


def placeholder_svg(name: str, colour: str | None = None, *, size: int = 200) -> str:
    """A square tile showing the model's name, drawn locally as SVG: the same input, the same bytes.

    Parameters
    ----------
    name : str
        The model's name (escaped; long names are cut into at most three lines).
    colour : str or None, default=None
        The fill, ``"#rgb"`` or ``"#rrggbb"`` (see :func:`topic_colours`); ``None`` is grey.
    size : int, default=200
        Width and height in pixels.

    Returns
    -------
    str
        An ``<svg>`` element.

    Raises
    ------
    ValueError
        If ``colour`` is not a hex colour.

    Examples
    --------
    >>> placeholder_svg("<b>", size=40) == placeholder_svg("<b>", size=40)
    True
    >>> "&lt;b&gt;" in placeholder_svg("<b>")
    True
    """
    fill = _NEUTRAL if colour is None else colour
    if not isinstance(fill, str) or not _COLOUR.fullmatch(fill):
        raise ValueError(f"colour must be a hex colour such as '#8dd3c7', got {colour!r}.")
    lines = _wrap(str(name), width=16, lines=3)
    step = size / 8
    top = size / 2 - step * (len(lines) - 1) / 2
    text = "".join(
        f'<text x="50%" y="{top + i * step:.1f}" text-anchor="middle" '
        f'dominant-baseline="middle">{html.escape(line)}</text>' for i, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}"><rect width="100%" height="100%" fill="{fill}"/>'
        f'<g font-family="sans-serif" font-size="{size / 11:.1f}" fill="#333">{text}</g>'
        f'<text x="50%" y="{size - step / 2:.1f}" text-anchor="middle" font-family="sans-serif" '
        f'font-size="{size / 16:.1f}" fill="#666">no thumbnail</text></svg>'
    )


def _wrap(text: str, width: int, lines: int) -> list[str]:
    words, out = text.split() or [""], [""]
    for word in words:
        while len(word) > width:  # a long word is cut
            out[-1:] = [out[-1], word[:width]] if out[-1] else [word[:width]]
            word = word[width:]
        if not out[-1]:
            out[-1] = word
        elif len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:width - 1] + "\u2026"
    return out


# -------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class TileGrid:
    """A grid of model tiles as static HTML; a notebook cell shows it.

    Attributes
    ----------
    html : str
        Self-contained HTML (inline styles and images; no script, no external file).
    placeholders : tuple of str
        The ids drawn as placeholders, in the order they first appear.
    """

    html: str
    placeholders: tuple

    def _repr_html_(self) -> str:
        return self.html


def tile_grid(rows, names=None, thumbnails=None, topics=None, *, colours=None,
              size: int = 120) -> TileGrid:
    """Each input model beside its neighbours, as a grid of linked tiles.

    A tile shows the model's thumbnail, or a placeholder drawn locally
    (:func:`placeholder_svg`, filled with the topic's colour when ``topics`` is given) and
    captioned "placeholder". Under it are the model's name and topic. Only a valid model id
    (:func:`is_model_id`) is linked to its page (:func:`model_url`). Every name, topic and
    URL is HTML-escaped.

    Parameters
    ----------
    rows : sequence of sequence of str
        One row per input: the input model's id, then its neighbours' ids.
    names : mapping of str to str or None, default=None
        Each id's model name (a dict or a pandas Series); the id where missing.
    thumbnails : mapping of str to Thumbnail or None, default=None
        What :meth:`ThumbnailClient.lookup` returned; a missing or ``None`` entry gets a
        placeholder. ``None`` draws every tile as a placeholder (offline, synthetic data).
    topics : mapping or None, default=None
        Each id's topic label (e.g. the synthetic data's true topic).
    colours : mapping or None, default=None
        Each topic's colour; the default is :func:`topic_colours` of the topics of the
        models in ``rows`` (pass one mapping to several grids to keep a topic's colour).
    size : int, default=120
        The width and height of a tile, in pixels.

    Returns
    -------
    TileGrid
        The HTML and the ids drawn as placeholders.

    Raises
    ------
    ValueError
        If ``rows`` is not a sequence of sequences of ids.

    Examples
    --------
    >>> grid = tile_grid([["5dcebcfaedbd4e7b8a27bd1ae55f1ac3", "0123456789abcdef0123"]],
    ...                  names={"5dcebcfaedbd4e7b8a27bd1ae55f1ac3": "<script>"})
    >>> "<script>" in grid.html, "&lt;script&gt;" in grid.html, len(grid.placeholders)
    (False, True, 2)
    """
    if isinstance(rows, str) or any(isinstance(row, str) for row in rows):
        raise ValueError("rows must be a list of rows, each a list of ids (the input model "
                         "first, then its neighbours); wrap a single row in a list.")
    names = {} if names is None else names
    thumbnails = {} if thumbnails is None else thumbnails
    topics = {} if topics is None else topics
    if colours is None:  # the topics of the models shown: a palette of 12 cannot tell dozens apart
        colours = topic_colours(topics[uid] for row in rows for uid in row
                                if uid in topics and topics[uid] is not None and topics[uid] == topics[uid])
    for topic, colour in colours.items():
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
            raise ValueError(f"The colour of topic {topic!r} is {colour!r}; give a hex colour "
                             "such as '#8dd3c7', or leave colours=None.")
    placeholders, html_rows, n_tiles, n_drawn = {}, [], 0, 0
    for row in rows:
        tiles = []
        for position, uid in enumerate(row):
            thumb = thumbnails.get(uid)
            n_tiles += 1
            if thumb is None:
                placeholders[uid] = None
                n_drawn += 1
            topic = topics.get(uid)
            tiles.append(_tile(uid, names.get(uid), thumb, topic, colours.get(topic),
                               "input" if position == 0 else f"#{position}", size))
        html_rows.append(f'<div style="display:flex;gap:8px;margin:0 0 10px 0">{"".join(tiles)}'
                         "</div>")
    note = (f'<p style="margin:0 0 6px 0">{n_drawn} of {n_tiles} tiles are placeholders, drawn '
            "locally and marked <em>placeholder</em>: no thumbnail was found for them (offline, "
            "not looked up, not on Sketchfab, or no image of a suitable size).</p>"
            if n_drawn else "")
    return TileGrid(f'<div class="recasketch-tiles" style="font-family:sans-serif;'
                    f'font-size:12px">{note}{"".join(html_rows)}</div>', tuple(placeholders))


def _tile(uid, name, thumb, topic, colour, label, size) -> str:
    name = str(uid) if name is None else str(name)
    if thumb is None:
        svg = placeholder_svg(name, colour, size=size)
        src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        marks = ' data-placeholder="true"'
    else:
        src, marks = thumb.url, ""
    border = f"border-bottom:6px solid {html.escape(colour)};" if colour else ""
    image = (f'<img src="{html.escape(src)}" alt="{html.escape(name)}" width="{size}" '
             f'height="{size}" style="object-fit:cover;display:block;{border}">')
    if is_model_id(uid):
        image = (f'<a href="{html.escape(model_url(uid))}" target="_blank" '
                 f'rel="noopener noreferrer" title="{html.escape(name)}">{image}</a>')
    details = [f"<b>{html.escape(label)}</b>"]
    if topic is not None:
        details.append(f"topic {html.escape(str(topic))}")
    if thumb is None:
        details.append("<em>placeholder</em>")
    return (f'<figure{marks} style="margin:0;width:{size}px">{image}'
            f'<figcaption style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap" '
            f'title="{html.escape(name)}">{html.escape(name)}<br>{" · ".join(details)}'
            "</figcaption></figure>")


def thumbnails_for(dataset, ids, cache_path=None, max_requests: int = 50, **client_options):
    """Thumbnails of ``ids`` for a notebook: looked up only when ``dataset`` is the real crawl.

    Synthetic models and a user's own items do not exist on Sketchfab, so for any dataset
    but ``"sketchfab"`` this returns ``None`` without a request, and :func:`tile_grid`
    draws every tile as a placeholder.

    Parameters
    ----------
    dataset : recasketch.data.Dataset
        What :func:`recasketch.data.load_dataset` returned.
    ids : iterable of str
        Model ids to show.
    cache_path : str or Path, default=None
        The cache file; ``None`` uses ``data/cache/thumbnails.json``.
    max_requests : int, default=50
        Lookups at most in this call (the rest come back ``None``; a later run adds them).
    **client_options
        Passed to :class:`ThumbnailClient`.

    Returns
    -------
    dict of str to Thumbnail or None, or None
    """
    if dataset.name != "sketchfab":
        return None
    path = cache_path if cache_path is not None else config.DATA_DIR / "cache" / "thumbnails.json"
    client = ThumbnailClient(path, max_requests=max_requests, **client_options)
    return client.lookup(list(ids), invalid="skip")
