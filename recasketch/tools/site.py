"""Render the ordered notebooks as a small static tutorial that reads offline.

``python -m recasketch.tools.site`` (what ``make html`` runs) writes ``site/`` in two sets of
pages. The full-size run leads: the notebooks executed at budget ``full`` on the full-size
synthetic stand-in, found in ``data/results/synthetic-full/``, make ``site/index.html`` and its
pages, and the index opens with their headline figures beside the posts'. The sample run, the
committed ``notebooks/`` that CI re-executes, follows in ``site/sample/``. Where no full-size
notebook exists yet, the site is the sample run alone, in ``site/``.

Each set has an ``index.html`` with one entry per notebook (its title, its purpose paragraph and
the data it ran on) and one page per notebook with previous/next links and a table of contents.
Every page says in a header line the data, budget and machine it ran on and its wall time, as
the notebook's metadata records them (:func:`recasketch.tools.execute.record_run`) or, for the
wall time, the sittings recorded beside it. Pages are rendered by nbconvert's ``HTMLExporter``
with the small template in ``recasketch/tools/site_templates/recasketch`` (JupyterLab's, less
its CDN scripts); the index page is rendered by the same Jinja environment.

Every page works from a ``file://`` URL without a network: figures are the notebooks'
own PNG outputs as ``data:`` URIs, images that HTML outputs take from local files are
inlined too, and a Content-Security-Policy lets no script run and nothing be fetched.
Outputs are data, not code, and the notebooks' text is treated the same way: the final HTML
of every markdown cell, raw cell and HTML or Markdown output (after Markdown is rendered) is
sanitised by :func:`sanitize_html`, so a model named ``<script>...</script>`` shows as text
and a link or image can only lead to the web, this site or a ``data:`` picture.
"""

from __future__ import annotations

import argparse
import base64
import html
import mimetypes
import re
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlsplit

import bleach
import nbformat
import pandas as pd
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from .. import config
from ..study import published
from ..study.report import of_another_plan, sittings
from ..tuning.search import SearchResult
from ..utils import duration
from .execute import RUN_METADATA, describe_machine

__all__ = ["Headline", "Page", "build_site", "build_tutorial", "data_description",
           "full_size_notebooks", "headline_figures", "run_header", "sanitize_html"]

#: Where the site's nbconvert template lives (``template_name="recasketch"``).
TEMPLATES_DIR = Path(__file__).resolve().parent / "site_templates"

SITE_TITLE = "recasketch — recommending Sketchfab models, a tutorial"
SITE_INTRO = (
    "These notebooks rebuild Ethan Rosenthal's two Sketchfab recommender posts and go past "
    "them: implicit matrix factorisation with ALS, learning to rank with WARP and side "
    "information, and what the recommendations look like. Read them in order; each page links "
    "to the next. Every number and figure here comes from the run of the notebook shown, on "
    "the data named below it."
)

#: Where ``make results`` writes the full-size run that leads the site.
FULL_RESULTS = config.RESULTS_DIR / "synthetic-full"
#: The folder of the site, under its root, that holds the sample run when the full-size run leads.
SAMPLE_FOLDER = "sample"

FULL_RUN = ("Full-size run — a synthetic stand-in calibrated to the posts, "
            "not the real Sketchfab crawl")
FULL_RUN_INTRO = (
    "**The full-size run.** These pages are the notebooks executed at budget `full` on "
    "`synthetic-full`: data made by `recasketch.datasets.synthetic` at the size of the real "
    "Sketchfab crawl and calibrated so that the posts' settings score about what they scored "
    "there (`data/calibration/report.md`). It is a stand-in, not the crawl: beside the posts' "
    "figures, its numbers say whether the methods behave on data like theirs, not what the posts "
    "would have found again."
)
SAMPLE_RUN = "Sample run — the small synthetic sample that CI re-executes"
SAMPLE_RUN_INTRO = (
    "**The sample run.** The notebooks executed at budget `ci` on the small synthetic "
    "sample in `data/sample/`, as CI re-executes them: seconds a notebook, with numbers that "
    "check the code rather than the methods."
)

#: The line ``recasketch.data.load_dataset`` writes as ``Dataset.description`` and the
#: notebooks print first: ``"<name>: <what> ..., from <folder>/"``.
_DESCRIPTION = re.compile(r"^[^\s:][^:\n]*: .*, from \S.*/$", re.MULTILINE)

#: Tags and attributes the rendered Markdown and HTML may keep: pandas tables, figures, image
#: grids, and what nbconvert's Markdown renderer writes (task lists, highlighted code, ...).
_ALLOWED_TAGS = [
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "input", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "samp",
    "small", "span", "strong", "style", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul", "var",
]
_ALLOWED_ATTRIBUTES = {
    "*": ["class", "style", "title", "id"],
    "a": ["href", "rel", "target"],
    "img": ["src", "alt", "width", "height", "loading"],
    "input": ["type", "checked", "disabled"],
    "details": ["open"],
    "ol": ["start", "type"],
    "table": ["border"],
    "td": ["colspan", "rowspan", "valign", "align"],
    "th": ["colspan", "rowspan", "valign", "align"],
    "tr": ["valign", "align"],
    "style": ["scoped", "type"],
}
#: What bleach lets through; :func:`_allowed_attribute` then narrows ``data:`` to images.
_PROTOCOLS = ["http", "https", "data"]
#: Output mimetypes a page may show: plain data, and HTML and Markdown that it sanitises.
_SHOWN_OUTPUTS = {"text/plain", "text/latex", "application/json", "image/png", "image/jpeg",
                  "text/html", "text/markdown"}
#: What browsers ignore in a URL's scheme (bleach's rule): controls, spaces, backticks.
_URL_IGNORED = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")
_CSS = CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES)
_IMG_SRC = re.compile(r"""(<img\b[^>]*?\bsrc\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


class InlineLocalImages(Preprocessor):
    """Replace ``<img src>`` paths to local files in HTML outputs by ``data:`` URIs.

    A path is read relative to the notebook's folder; ``data:`` and ``http(s):`` sources
    and missing files are left as they are (the browser check reports those)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                data["text/html"] = _IMG_SRC.sub(
                    lambda m: m.group(1) + m.group(2) + _inline(m.group(3), folder) + m.group(2),
                    data["text/html"])
        return cell, resources


def _inline(src: str, folder: Path) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) and not src.startswith("file:"):
        return src
    path = folder / src.removeprefix("file://")  # an absolute path stays as it is
    kind = mimetypes.guess_type(path.name)[0]
    if not path.is_file() or kind is None or not kind.startswith("image/"):
        return src
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


class DropActiveOutputs(Preprocessor):
    """Remove from code-cell outputs every mimetype but data and sanitised HTML/Markdown.

    JavaScript, widget state, SVG and the like go: only ``_SHOWN_OUTPUTS`` are shown. HTML
    and Markdown are left as they are here, for the template sanitises their final HTML."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for key in [key for key in data if key not in _SHOWN_OUTPUTS]:
                del data[key]
        return cell, resources


def _safe_url(value: str, *, image: bool) -> bool:
    """Whether ``value`` is a relative URL, an ``http(s)`` one or, for an image, a picture.

    Examples
    --------
    >>> _safe_url("02_warp.html#1.-Data", image=False), _safe_url("https://x.org", image=False)
    (True, True)
    >>> _safe_url(" Java\tScript:alert(1)", image=False), _safe_url("vbscript:x", image=False)
    (False, False)
    >>> _safe_url("data:image/png;base64,AAAA", image=True)
    True
    >>> _safe_url("data:image/png;base64,AAAA", image=False)
    False
    >>> _safe_url("data:text/html,<script>alert(1)</script>", image=True)
    False
    """
    url = _URL_IGNORED.sub("", html.unescape(value)).lower()
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return False
    return scheme in ("", "http", "https") or (image and url.startswith("data:image/"))


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's test of an attribute: listed in ``_ALLOWED_ATTRIBUTES``, and a safe URL."""
    if name not in _ALLOWED_ATTRIBUTES.get(tag, []) + _ALLOWED_ATTRIBUTES["*"]:
        return False
    if (tag, name) in (("a", "href"), ("img", "src")):
        return _safe_url(value, image=tag == "img")
    return True


def sanitize_html(html_str) -> str:
    """Keep only inert markup: the template's ``clean_html`` on all HTML from a notebook.

    Disallowed tags are escaped, so they show as text; event handlers and scripts go; links
    may lead only to relative, fragment or ``http(s)`` URLs, and images may also be
    ``data:image/...`` URIs (the figures and inlined thumbnails).

    Parameters
    ----------
    html_str : str or bytes
        Final HTML: rendered Markdown, an HTML output, a raw cell, highlighted code.

    Returns
    -------
    str
        The sanitised HTML.

    Examples
    --------
    >>> sanitize_html('<a href="javascript:alert(1)">x</a><script>alert(2)</script>')
    '<a>x</a>&lt;script&gt;alert(2)&lt;/script&gt;'
    >>> sanitize_html('<img src="data:image/png;base64,AAAA" onerror="alert(1)">')
    '<img src="data:image/png;base64,AAAA">'
    """
    html_str = html_str.decode() if isinstance(html_str, bytes) else str(html_str)
    return bleach.clean(html_str, tags=_ALLOWED_TAGS, attributes=_allowed_attribute,
                        protocols=_PROTOCOLS, strip=False, strip_comments=True,
                        css_sanitizer=_CSS)


@dataclass
class Page:
    """One notebook of the site, as the index and the navigation show it.

    ``href`` is the page's file name quoted for a URL (``"a #1.html"`` is linked as
    ``"a%20%231.html"``); :attr:`filename` is the file written."""

    notebook: Path
    href: str
    title: str
    purpose: str
    data: str | None
    synthetic: bool
    toc: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return self.notebook.stem

    @property
    def filename(self) -> str:
        """The page's file name, ``<notebook stem>.html``, as written (not quoted)."""
        return f"{self.stem}.html"


def data_description(nb) -> str | None:
    """The data a notebook ran on, as its outputs say.

    The first line of a stream output in ``recasketch.data.Dataset.description``'s form
    (``"sample: SYNTHETIC data made by recasketch.synthetic — ..., from data/sample/"``).
    The outputs are read, not the parameter cell: the parameter's default is not what ran
    when ``make`` set ``RECASKETCH_DATA``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An executed notebook.

    Returns
    -------
    str or None
        The line, or ``None`` when no output holds one.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream":
                found = _DESCRIPTION.search(output.get("text", ""))
                if found:
                    return found.group(0)
    return None


def _title_and_purpose(nb, fallback: str) -> tuple[str, str]:
    """The first markdown cell's H1 and the paragraph after it."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.strip().splitlines()
        if not lines or not lines[0].startswith("# "):
            break
        return lines[0][2:].strip(), "\n".join(lines[1:]).strip().split("\n\n")[0].strip()
    return fallback, ""


#: How a sitting that did not complete ended, as :func:`recasketch.study.report.sittings` says it.
_ENDED = {"interrupted": "was interrupted", "failed": "failed",
          "no end recorded": "recorded no end"}


def _wall_time(seconds, table) -> str:
    """The wall time of the execution a page shows, and of the sittings before it.

    Parameters
    ----------
    seconds : float or None
        The wall time the notebook's metadata records, if any.
    table : pandas.DataFrame
        :func:`recasketch.study.report.sittings` for the notebook; its last row is the sitting
        that wrote it.

    Returns
    -------
    str

    Examples
    --------
    >>> none = pd.DataFrame(columns=["started", "seconds", "status"])
    >>> _wall_time(12.3, none), _wall_time(None, none)
    ('12 s', 'not recorded')
    >>> two = pd.DataFrame({"started": ["a", "b"], "seconds": [1984.5, 62.7],
    ...                     "status": ["completed", "completed"]})
    >>> _wall_time(None, two)
    '63 s in its latest sitting, which resumed from the logs of 1 earlier sitting (33 min)'
    >>> _wall_time(None, two.iloc[:1])
    '33 min'
    >>> _wall_time(None, two.assign(status=["completed", "interrupted"]))
    '63 s in its latest sitting, which was interrupted, after 1 earlier sitting (33 min)'
    """
    if table.empty:
        return "not recorded" if seconds is None else duration(seconds)
    last, earlier = table.iloc[-1], table.iloc[:-1]
    completed = last["status"] == "completed"
    if seconds is None or not completed:
        seconds = last["seconds"]
    text = "not recorded" if pd.isna(seconds) else duration(seconds)
    if earlier.empty and completed:
        return text
    text += " in its latest sitting"
    if not completed:
        text += f", which {_ENDED.get(last['status'], last['status'])}"
    if earlier.empty:
        return text
    known = earlier["seconds"].dropna()
    spent = duration(known.sum()) + (", and more not recorded" if len(known) < len(earlier) else "")
    n = f"{len(earlier)} earlier sitting{'s' if len(earlier) > 1 else ''}"
    text += f", which resumed from the logs of {n}" if completed else f", after {n}"
    return f"{text} ({spent})"


def run_header(nb, notebook) -> dict:
    """What a page says it ran on: data, budget, machine and wall time, each or "not recorded".

    The data is read from the outputs (:func:`data_description`), else the notebook's run
    metadata (:func:`recasketch.tools.execute.record_run`); the budget and machine from that
    metadata; the wall time from the metadata and the sittings recorded beside the notebook
    (``sittings.jsonl``, written by ``make results``), which also tell a run that resumed from
    the logs of earlier sittings.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.
    notebook : str or os.PathLike
        Its file; the sittings are looked up in its folder.

    Returns
    -------
    dict
        ``{"Data": ..., "Budget": ..., "Machine": ..., "Wall time": ...}``, in that order.
    """
    notebook = Path(notebook)
    record = nb.metadata.get(RUN_METADATA, {})
    machine = record.get("machine")
    return {
        "Data": data_description(nb) or record.get("data") or "not recorded",
        "Budget": record.get("budget") or "not recorded",
        "Machine": describe_machine(machine) if machine else "not recorded",
        "Wall time": _wall_time(record.get("seconds"), _own_plan(sittings(notebook.parent, notebook.name))),
    }


def _own_plan(table):
    """The sittings of the plan that the last one ran: earlier plans' are not what it resumed from."""
    return table if table.empty else table[~of_another_plan(table, table["plan"].iloc[-1])]


class Headline(NamedTuple):
    """One headline figure of a notebook beside the post's, for the index's table."""

    notebook: Path
    measure: str
    ours: float
    post: float
    source: str

    @property
    def difference(self) -> str:
        """Ours against the post's, in per cent of the post's: ``"+23 %"``."""
        return f"{100 * (self.ours - self.post) / self.post:+.0f} %"


def _ours_in_table(path: Path, row: str) -> float:
    """The value in ``row`` of the first column named ``ours ...`` of a CSV with an index."""
    table = pd.read_csv(path, index_col=0)
    return table.loc[row, next(c for c in table.columns if str(c).startswith("ours"))]


def _best_search_score(path: Path) -> float:
    """The ``p@k`` of a search's best successful call (``SearchResult.best``), from its CSV."""
    return SearchResult(pd.read_csv(path), None, 0).best["p@k"]


#: The figures the index shows beside the posts': (notebook stem, measure, the CSV the notebook
#: writes beside itself, how to read ours from it, the post's figure, which post).
_HEADLINES = [
    ("01_wrmf_als", "ALS, best of post 1's grid: test p@5", "als_best.csv",
     lambda path: _ours_in_table(path, "test p@5"), published.ALS_BEST["test_p@5"],
     published.POST1),
    ("02_warp_side_information", "WARP, best call of the search: test p@5",
     "warp_search_calls.csv", _best_search_score, published.WARP_SEARCH["best_test_p@5"],
     published.POST2),
    ("02_warp_side_information", "WARP + tags, best call of the search: test p@5",
     "warp_tags_search_calls.csv", _best_search_score,
     published.WARP_SIDE_INFO_SEARCH["best_test_p@5"], published.POST2),
]


def headline_figures(notebooks) -> list[Headline]:
    """Our headline figures beside the posts', read from the tables the notebooks wrote.

    Parameters
    ----------
    notebooks : sequence of str or os.PathLike
        Executed notebooks of a results run; each one's tables are read from its folder
        (``als_best.csv`` for notebook 01, the searches' calls for notebook 02).

    Returns
    -------
    list of Headline
        In the notebooks' order; a figure whose table is missing or unreadable is left out.
    """
    found = []
    for notebook in map(Path, notebooks):
        for stem, measure, table, read, post, source in _HEADLINES:
            if notebook.stem != stem or not (notebook.parent / table).is_file():
                continue
            try:
                ours = float(read(notebook.parent / table))
            except (OSError, KeyError, ValueError, IndexError, StopIteration, TypeError):
                continue  # an unreadable table, or one without the figure: nothing to show
            if pd.notna(ours):
                found.append(Headline(notebook, measure, ours, post, source))
    return found


def full_size_notebooks(folder=FULL_RESULTS) -> list[Path]:
    """The executed notebooks of a results run, in reading order (``NN_*.ipynb``).

    Parameters
    ----------
    folder : str or os.PathLike, default=FULL_RESULTS
        A results folder, ``data/results/synthetic-full/`` by default.

    Returns
    -------
    list of pathlib.Path
        Empty when the folder or its notebooks do not exist yet. A notebook whose run did not
        complete (no wall time in its run record: stopped, failed, or still running) is left
        out, so that a partly executed copy is never shown as the run's.
    """
    def completed(path: Path) -> bool:
        try:
            record = nbformat.read(path, as_version=4).metadata.get(RUN_METADATA, {})
        except Exception:  # unreadable, e.g. being written
            return False
        return record.get("seconds") is not None

    return [path for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")) if completed(path)]


class _Headings(HTMLParser):
    """Collect ``(level, id, text)`` of the h1–h6 in an HTML fragment, less anchor links."""

    def __init__(self):
        super().__init__()
        self.found, self._open, self._skip = [], None, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag) and attrs.get("id"):
            self._open = [int(tag[1]), attrs["id"], ""]
        elif tag == "a" and "anchor-link" in (attrs.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._skip:
            self._skip -= 1
        elif self._open and tag == f"h{self._open[0]}":
            self.found.append({"level": self._open[0], "id": self._open[1],
                               "text": " ".join(self._open[2].split())})
            self._open = None

    def handle_data(self, data):
        if self._open and not self._skip:
            self._open[2] += data


def _toc(nb, exporter: HTMLExporter, levels=(2, 3)) -> list[dict]:
    """The headings of the markdown cells, with the ids nbconvert's renderer gives them."""
    parser = _Headings()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parser.feed(exporter.markdown2html({"cell": cell}, cell.source))
    return [h for h in parser.found if h["level"] in levels]


def _exporter() -> HTMLExporter:
    """nbconvert's exporter with the site's template; its ``clean_html`` is the last step of
    every markdown cell, raw cell and HTML or Markdown output (``sanitize_html=True``)."""
    exporter = HTMLExporter(template_name="recasketch",
                            extra_template_basedirs=[str(TEMPLATES_DIR)], embed_images=True,
                            sanitize_html=True, filters={"clean_html": sanitize_html})
    exporter.register_preprocessor(InlineLocalImages(), enabled=True)
    exporter.register_preprocessor(DropActiveOutputs(), enabled=True)
    return exporter


def build_site(notebooks, out_dir, *, title=SITE_TITLE, intro=SITE_INTRO, run=None, see_also=None,
               headlines=(), to_come=()) -> list[Path]:
    """Render notebooks, in the order given, and an index page into ``out_dir``.

    Every page opens with a line saying the data, budget, machine and wall time of its run
    (:func:`run_header`).

    Parameters
    ----------
    notebooks : sequence of str or os.PathLike
        Executed ``.ipynb`` files; their order is the reading order.
    out_dir : str or os.PathLike
        Created if missing; ``index.html`` and ``<notebook stem>.html`` are (over)written.
    title : str, default=SITE_TITLE
        The index page's title.
    intro : str, default=SITE_INTRO
        The index page's opening paragraph (Markdown).
    run : str, default=None
        A one-line name of the run these notebooks are, shown on the index and every page.
    see_also : str, default=None
        A paragraph (Markdown) closing the index, e.g. a link to another set of pages.
    headlines : sequence of Headline, default=()
        Figures shown in a table at the top of the index (:func:`headline_figures`); those
        of notebooks not in ``notebooks`` are left out.
    to_come : sequence of dict, default=()
        Notebooks not in this run yet, listed on the index as read in the sample run:
        ``{"title": ..., "href": ...}``, ``href`` being the URL of the sample run's page,
        relative to ``out_dir`` and quoted, or ``None``.

    Returns
    -------
    list of pathlib.Path
        The pages written, the index first.

    Raises
    ------
    ValueError
        If no notebook is given or two share a name.
    FileNotFoundError
        If a notebook does not exist.
    """
    paths = [Path(p) for p in notebooks]
    if not paths:
        raise ValueError("No notebooks to render: pass at least one .ipynb file.")
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ValueError(f"Two notebooks share a name, so their pages would too: {stems}.")
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: pass executed notebooks.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exporter = _exporter()

    nbs = [nbformat.read(path, as_version=4) for path in paths]
    pages = []
    for path, nb in zip(paths, nbs):
        title_, purpose = _title_and_purpose(nb, fallback=path.stem)
        data = data_description(nb)
        pages.append(Page(path, quote(f"{path.stem}.html", safe=""), title_, purpose, data,
                          synthetic=bool(data and "SYNTHETIC" in data), toc=_toc(nb, exporter),
                          facts=run_header(nb, path)))

    by_notebook = {page.notebook.resolve(): page for page in pages}
    table = [{"page": by_notebook[Path(h.notebook).resolve()], "measure": h.measure, "ours": h.ours,
              "post": h.post, "difference": h.difference, "source": h.source}
             for h in headlines if Path(h.notebook).resolve() in by_notebook]
    written = [out / "index.html"]
    written[0].write_text(exporter.environment.get_template("site_index.html.j2").render(
        site={"title": title, "intro": intro, "pages": pages, "run": run, "see_also": see_also,
              "headlines": table, "to_come": list(to_come)}), encoding="utf-8")
    for i, (page, nb) in enumerate(zip(pages, nbs)):
        resources = {
            "metadata": {"name": page.title, "path": str(page.notebook.parent)},
            "site": {"index_href": "index.html", "toc": page.toc, "run": run, "facts": page.facts,
                     "prev": pages[i - 1] if i > 0 else None,
                     "next": pages[i + 1] if i + 1 < len(pages) else None},
        }
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        written.append(out / page.filename)
        written[-1].write_text(body, encoding="utf-8")
    return written


def build_tutorial(sample, out_dir, *, full=()) -> list[Path]:
    """Render the full-size run, when there is one, and the sample run beside it.

    With full-size notebooks, they make ``out_dir/index.html`` and its pages, named as the
    synthetic stand-in they ran on; the index opens with their headline figures beside the
    posts' (:func:`headline_figures`), lists the notebooks not yet run at full size, and links
    to the sample run, rendered in ``out_dir/sample/`` with a link back. Without them the
    sample run alone makes ``out_dir``, as :func:`build_site` writes it.

    Parameters
    ----------
    sample : sequence of str or os.PathLike
        The sample run's executed notebooks (``notebooks/NN_*.ipynb``), in reading order.
    out_dir : str or os.PathLike
        The site's folder; created if missing.
    full : sequence of str or os.PathLike, default=()
        The full-size run's executed notebooks (:func:`full_size_notebooks`), in reading order.

    Returns
    -------
    list of pathlib.Path
        The pages written: the leading set's index and pages, then the sample run's.

    Raises
    ------
    ValueError, FileNotFoundError
        As :func:`build_site`, for either set.
    """
    sample, full, out = [Path(p) for p in sample], [Path(p) for p in full], Path(out_dir)
    sample_intro = f"{SITE_INTRO}\n\n{SAMPLE_RUN_INTRO}"
    full_intro = f"{SITE_INTRO}\n\n{FULL_RUN_INTRO}"
    if not full:
        return build_site(sample, out, intro=sample_intro, run=SAMPLE_RUN)
    if not sample:
        return build_site(full, out, intro=full_intro, run=FULL_RUN,
                          headlines=headline_figures(full))
    sample_pages = build_site(
        sample, out / SAMPLE_FOLDER, intro=sample_intro, run=SAMPLE_RUN,
        see_also=("Back to **[the full-size run](../index.html)**, the tutorial's headline: the "
                  "notebooks at budget `full` on the synthetic stand-in for the real crawl, beside "
                  "the posts' figures."))
    present, to_come = {path.name for path in full}, []
    for path in sample:
        if path.name not in present:
            title = _title_and_purpose(nbformat.read(path, as_version=4), fallback=path.stem)[0]
            to_come.append({"title": title,
                            "href": f"{SAMPLE_FOLDER}/{quote(f'{path.stem}.html', safe='')}"})
            # its page from a site built before the full-size run existed, now linked from nowhere
            (out / f"{path.stem}.html").unlink(missing_ok=True)
    full_pages = build_site(
        full, out, intro=full_intro, run=FULL_RUN, headlines=headline_figures(full),
        to_come=to_come,
        see_also=(f"Also here: **[the sample run]({SAMPLE_FOLDER}/index.html)**, the same "
                  "notebooks on the small synthetic sample as CI re-executes them, where those "
                  "not yet run at full size can be read."))
    return full_pages + sample_pages


def main(argv=None) -> int:
    """The command line of the module's docstring on ``argv`` (``None``: ``sys.argv``); 0 once the site is written."""
    parser = argparse.ArgumentParser(prog="python -m recasketch.tools.site",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="the sample run's executed notebooks in reading order (default: "
                             "notebooks/NN_*.ipynb); named without --full, they are the whole site")
    parser.add_argument("--full", type=Path, default=None, metavar="DIR",
                        help="the full-size run's folder, whose NN_*.ipynb lead the site when "
                             "there are any (default: data/results/synthetic-full/ when no "
                             "notebook is named)")
    parser.add_argument("--out", type=Path, default=config.PROJ_ROOT / "site",
                        help="output folder (default: site/)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(
        (config.PROJ_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    full_dir = args.full if args.full is not None else (None if args.notebooks else FULL_RESULTS)
    start = time.perf_counter()
    if full_dir is None:  # notebooks named alone: they are the site, as they are
        full, written = [], build_site(notebooks, args.out)
    else:
        full = full_size_notebooks(full_dir)
        if not full:
            print(f"no full-size notebooks in {full_dir}/ yet: the site is the sample run alone")
        written = build_tutorial(notebooks, args.out, full=full)
    sets = (f"the full-size run ({len(full)} notebook{'s' if len(full) > 1 else ''}) and "
            f"the sample run in {SAMPLE_FOLDER}/" if full and notebooks else "one run")
    print(f"{len(written)} pages in {args.out}/, {sets} ({time.perf_counter() - start:.1f} s); "
          f"open {written[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
