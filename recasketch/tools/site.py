"""Render the ordered notebooks as a small static tutorial that reads offline.

``python -m recasketch.tools.site`` (what ``make html`` runs) writes ``site/``: an ``index.html``
with one entry per notebook (its title, its purpose paragraph and the data it ran on) and
one page per notebook with previous/next links and a table of contents. Pages are
rendered by nbconvert's ``HTMLExporter`` with the small template in
``recasketch/tools/site_templates/recasketch`` (JupyterLab's, less its CDN scripts); the index
page is rendered by the same Jinja environment.

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
from urllib.parse import quote, urlsplit

import bleach
import nbformat
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from .. import config

__all__ = ["Page", "build_site", "data_description", "sanitize_html"]

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


def build_site(notebooks, out_dir, *, title=SITE_TITLE, intro=SITE_INTRO) -> list[Path]:
    """Render notebooks, in the order given, and an index page into ``out_dir``.

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
                          synthetic=bool(data and "SYNTHETIC" in data), toc=_toc(nb, exporter)))

    written = [out / "index.html"]
    written[0].write_text(exporter.environment.get_template("site_index.html.j2").render(
        site={"title": title, "intro": intro, "pages": pages}), encoding="utf-8")
    for i, (page, nb) in enumerate(zip(pages, nbs)):
        resources = {
            "metadata": {"name": page.title, "path": str(page.notebook.parent)},
            "site": {"index_href": "index.html", "toc": page.toc,
                     "prev": pages[i - 1] if i > 0 else None,
                     "next": pages[i + 1] if i + 1 < len(pages) else None},
        }
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        written.append(out / page.filename)
        written[-1].write_text(body, encoding="utf-8")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recasketch.tools.site",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="executed notebooks in reading order (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=config.PROJ_ROOT / "site",
                        help="output folder (default: site/)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(
        (config.PROJ_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    start = time.perf_counter()
    written = build_site(notebooks, args.out)
    print(f"{len(written)} pages in {args.out}/ ({time.perf_counter() - start:.1f} s); "
          f"open {written[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
