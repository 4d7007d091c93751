"""The rendered tutorial: built from the committed notebooks, opened in headless Chromium.

The site's two sets of pages are built from the committed full-size notebook 01
(``data/results/synthetic-full/``) and the committed sample notebooks (``notebooks/``).

The browser half needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them); where they are missing it is skipped with a message saying so.
"""

import json
import shutil
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from recasketch import config
from recasketch.study import published
from recasketch.tools.execute import record_run
from recasketch.tools.site import (
    Headline, build_site, build_tutorial, data_description, headline_figures, main, run_header,
    sanitize_html,
)

NOTEBOOKS = sorted((config.PROJ_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: The committed full-size run's notebook 01, beside its tables and sittings.
FULL_01 = config.PROJ_ROOT / "data" / "results" / "synthetic-full" / "01_wrmf_als.ipynb"
NAME = "<script>window.__pwned=1</script>"


def _hostile_notebook(path: Path) -> Path:
    """A notebook whose outputs carry a model name that is a script, as data could."""
    nb = new_notebook(cells=[
        new_markdown_cell("# 99 — Names from the data\n\nModel names are data, never code.\n\n"
                          "## 1. A name"),
        new_code_cell("print(dataset.description)", execution_count=1, outputs=[
            new_output("stream", name="stdout",
                       text=f"mine: {NAME} 3 like rows, no features table, from data/{NAME}/\n")]),
        new_code_cell("names", execution_count=2, outputs=[new_output(
            "execute_result", execution_count=2, data={
                "text/plain": NAME,
                "text/html": f"<table><tr><td>{NAME}</td><td><svg onload=window.__pwned=2></svg>"
                             f"<a href='javascript:window.__pwned=4'>x</a></td></tr></table>",
                "text/markdown": f"**Top model:** {NAME}",
                "application/javascript": "window.__pwned=3"})]),
    ])
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Both sets: the committed full-size notebook 01 leads, the sample run (with a hostile
    notebook) follows in ``sample/``."""
    root = tmp_path_factory.mktemp("site")
    hostile = _hostile_notebook(root / "99_names.ipynb")
    pages = build_tutorial([*NOTEBOOKS, hostile], root / "site", full=[FULL_01])
    return root / "site", pages


def test_data_description_is_read_from_the_outputs():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    assert data_description(nb).startswith("sample: SYNTHETIC data made by recasketch.synthetic")
    assert data_description(new_notebook(cells=[new_code_cell("1")])) is None


def test_build_site_writes_index_and_one_page_per_notebook(site):
    out, pages = site
    assert [p.relative_to(out).as_posix() for p in pages] == [
        "index.html", "01_wrmf_als.html", "sample/index.html",
        *(f"sample/{nb.stem}.html" for nb in NOTEBOOKS), "sample/99_names.html"]
    index = (out / "sample" / "index.html").read_text(encoding="utf-8")
    assert index.count("synthetic data</span>") == len(NOTEBOOKS)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html, f"{page.name} holds a script"
        assert 'http-equiv="Content-Security-Policy"' in html
    names = (out / "sample" / "99_names.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in names


def test_build_site_guards(tmp_path):
    with pytest.raises(ValueError, match="No notebooks"):
        build_site([], tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_site([tmp_path / "missing.ipynb"], tmp_path)
    with pytest.raises(ValueError, match="share a name"):
        build_site([NOTEBOOKS[0], NOTEBOOKS[0]], tmp_path)


def _hrefs(html):
    return [value for tag, _, value in _URLs(html).found if tag == "a"]


def test_the_full_size_run_leads_and_the_sample_run_follows(site):
    out, _ = site
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Full-size run — a synthetic stand-in calibrated to the posts, not the real Sketchfab " \
           "crawl" in index
    ours = pd.read_csv(FULL_01.parent / "als_best.csv", index_col=0).loc["test p@5"].iloc[0]
    post = published.ALS_BEST["test_p@5"]
    table = index[index.index('id="headline-figures"'):index.index("</table>")]
    assert f"{ours:.4f}" in table and f"{post:.4f}" in table
    assert f"{100 * (ours - post) / post:+.0f} %" in table and published.POST1 in table
    assert index.index('id="headline-figures"') < index.index('id="01_wrmf_als"')  # it leads
    later = [f"sample/{quote(f'{nb.stem}.html', safe='')}" for nb in NOTEBOOKS
             if nb.name != FULL_01.name] + ["sample/99_names.html"]
    hrefs = _hrefs(index)
    assert "sample/index.html" in hrefs and hrefs[-len(later):] == later  # still to come, in order
    assert "01_wrmf_als.html" in hrefs and "sample/01_wrmf_als.html" not in hrefs
    sample = (out / "sample" / "index.html").read_text(encoding="utf-8")
    assert "Sample run — the small synthetic sample that CI re-executes" in sample
    assert "../index.html" in _hrefs(sample) and 'id="headline-figures"' not in sample
    full = (out / "01_wrmf_als.html").read_text(encoding="utf-8")
    assert "synthetic-full: SYNTHETIC data" in full and "sample: SYNTHETIC data" not in full


def test_every_page_says_its_data_budget_machine_and_wall_time(site):
    out, pages = site
    for page in pages:
        if page.name == "index.html":
            continue
        html = page.read_text(encoding="utf-8")
        header = html[html.index('<header class="site-header">'):html.index("</header>")]
        for label in ("Data", "Budget", "Machine", "Wall time"):
            assert f"<strong>{label}:</strong>" in header, f"{page.name}: no {label} in its header"
    nb = nbformat.read(FULL_01, as_version=4)
    facts = run_header(nb, FULL_01)
    assert facts["Budget"] == "full" and facts["Machine"] != "not recorded"
    assert "earlier sitting" in facts["Wall time"]  # the sittings beside it: logs read back
    full = (out / "01_wrmf_als.html").read_text(encoding="utf-8")
    for label, value in facts.items():
        assert f"<strong>{label}:</strong> {html_escape(value)}" in full


def _described_notebook(path: Path, data="mine: 3 like rows, no features table, from data/mine/"):
    """A notebook that printed the data it ran on, as the notebooks do."""
    nbformat.write(new_notebook(cells=[
        new_markdown_cell("# 01 — Described\n\nIt says what it ran on."),
        new_code_cell("print(dataset.description)", execution_count=1,
                      outputs=[new_output("stream", name="stdout", text=data + "\n")])]), path)
    return path


def _sittings(folder: Path, notebook: str, *runs):
    """A ``sittings.jsonl`` with one sitting per ``(seconds, status)``, as execute writes it."""
    with open(folder / "sittings.jsonl", "a") as f:
        for i, (seconds, status) in enumerate(runs):
            entry = {"run": f"r{i}", "notebook": notebook, "started": f"2026-01-0{i + 1}T00:00:00+00:00"}
            f.write(json.dumps({**entry, "event": "start"}) + "\n")
            if status is not None:
                f.write(json.dumps({**entry, "event": "end", "status": status, "seconds": seconds}) + "\n")


def test_run_header_reads_the_metadata_then_the_sittings(tmp_path):
    path = _described_notebook(tmp_path / "01_d.ipynb")
    bare = nbformat.read(path, as_version=4)
    assert run_header(bare, path) == {"Data": "mine: 3 like rows, no features table, from data/mine/",
                                      "Budget": "not recorded", "Machine": "not recorded",
                                      "Wall time": "not recorded"}
    nb = nbformat.read(path, as_version=4)
    record_run(nb, seconds=62.7, environ={"RECASKETCH_DATA": "mine", "RECASKETCH_BUDGET": "full"})
    nb.metadata["recasketch"]["machine"] = {"cpus": 2, "memory_gib": 24, "os": "Linux x86_64", "gpus": 0}
    facts = run_header(nb, path)
    assert (facts["Budget"], facts["Machine"], facts["Wall time"]) == \
        ("full", "2 CPUs, 24 GiB memory, Linux x86_64, no NVIDIA GPU", "63 s")
    _sittings(tmp_path, "01_d.ipynb", (1984.5, "completed"), (62.7, "completed"))
    _sittings(tmp_path, "other.ipynb", (5.0, "completed"))
    assert run_header(nb, path)["Wall time"] == \
        "63 s in its latest sitting, which resumed from the logs of 1 earlier sitting (33 min)"
    assert run_header(bare, path)["Wall time"] == run_header(nb, path)["Wall time"]  # sittings alone
    lines = (tmp_path / "sittings.jsonl").read_text().splitlines()  # the first ran another plan
    lines = [line.replace('"event": "start"', '"event": "start", "plan": "old"') if '"r0"' in line
             else line.replace('"event": "start"', '"event": "start", "plan": "new"') for line in lines]
    (tmp_path / "sittings.jsonl").write_text("\n".join(lines) + "\n")
    assert run_header(nb, path)["Wall time"] == "63 s"
    (tmp_path / "sittings.jsonl").unlink()
    _sittings(tmp_path, "01_d.ipynb", (600.0, "completed"), (300.0, "interrupted"), (None, None))
    assert run_header(bare, path)["Wall time"] == \
        "not recorded in its latest sitting, which recorded no end, after 2 earlier sittings (15 min)"
    record_run(nb, environ={})  # the data and budget of no variable and no parameter cell
    assert run_header(nb, path)["Budget"] == "not recorded"

    index, page = build_site([path], tmp_path / "site")
    html = page.read_text(encoding="utf-8")
    assert "<strong>Budget:</strong> not recorded" in html and "<strong>Wall time:</strong> not " \
        "recorded in its latest sitting" in html
    assert '<p class="site-run">' not in html  # no run named: no label
    assert "<strong>Wall time:</strong>" in index.read_text(encoding="utf-8")


def _calls_csv(path: Path, rows):
    pd.DataFrame(rows, columns=["call", "p@k", "objective", "status"]).to_csv(path, index=False)


def test_headline_figures_are_read_from_the_tables_that_exist(tmp_path):
    als = _plain_notebook(tmp_path / "01_wrmf_als.ipynb")
    warp = _plain_notebook(tmp_path / "02_warp_side_information.ipynb")
    other = _plain_notebook(tmp_path / "03_thumbnails.ipynb")
    assert headline_figures([als, warp, other]) == []  # no table yet: nothing
    pd.DataFrame({"ours (mine, synthetic)": [40.0, 0.05], "post 1 (real crawl)": [40.0, 0.04761]},
                 index=["factors", "test p@5"]).to_csv(tmp_path / "als_best.csv")
    _calls_csv(tmp_path / "warp_search_calls.csv", [(0, 0.04, -0.04, "ok"), (1, 0.0, 0.0, "failed"),
                                                    (2, 0.045, -0.045, "ok"), (3, 0.03, -0.03, "ok")])
    (tmp_path / "warp_tags_search_calls.csv").write_text("not,the\ncalls,table\n")
    found = headline_figures([warp, als, other])
    assert [(h.notebook.name, h.ours, h.post) for h in found] == [
        ("02_warp_side_information.ipynb", 0.045, published.WARP_SEARCH["best_test_p@5"]),
        ("01_wrmf_als.ipynb", 0.05, published.ALS_BEST["test_p@5"])]
    assert found[1].difference == "+5 %"
    assert Headline(als, "m", 0.03, 0.04, "p").difference == "-25 %"

    index = build_site([als, other], tmp_path / "site", headlines=found)[0].read_text(encoding="utf-8")
    rows = index[index.index("<tbody>"):index.index("</tbody>")]
    assert rows.count("<tr>") == 1 and "0.0500" in rows and "0.0476" in rows  # 02 is not in this set
    assert 'href="01_wrmf_als.html"' in rows
    empty = build_site([other], tmp_path / "bare")[0].read_text(encoding="utf-8")
    assert "headline-figures" not in empty


def test_without_a_full_size_run_the_site_is_the_sample_run(tmp_path):
    sample = [_plain_notebook(tmp_path / f"{stem}.ipynb") for stem in ("01_a", "02_b")]
    out = tmp_path / "site"
    pages = build_tutorial(sample, out, full=[])
    assert [p.relative_to(out).as_posix() for p in pages] == ["index.html", "01_a.html", "02_b.html"]
    assert not (out / "sample").exists()
    index = pages[0].read_text(encoding="utf-8")
    assert "Sample run" in index and "Full-size run" not in index
    assert _hrefs(index) == ["01_a.html", "02_b.html"]  # no link to another set

    (tmp_path / "full").mkdir()
    full = [_described_notebook(tmp_path / "full" / "01_a.ipynb")]
    pages = build_tutorial(sample, out, full=full)
    assert [p.relative_to(out).as_posix() for p in pages] == [
        "index.html", "01_a.html", "sample/index.html", "sample/01_a.html", "sample/02_b.html"]
    assert not (out / "02_b.html").exists()  # the sample's page of the first build: gone from the top
    assert "Full-size run" in (out / "01_a.html").read_text(encoding="utf-8")
    assert "Sample run" in (out / "sample" / "01_a.html").read_text(encoding="utf-8")


def test_main_leads_with_the_full_size_run_when_its_folder_has_one(tmp_path, capsys):
    sample = [_plain_notebook(tmp_path / f"{stem}.ipynb") for stem in ("01_a", "02_b")]
    (tmp_path / "full").mkdir()
    out = tmp_path / "site"
    assert main(["--out", str(out), "--full", str(tmp_path / "full"), *map(str, sample)]) == 0
    assert "no full-size notebooks" in capsys.readouterr().out
    assert "Sample run" in (out / "index.html").read_text(encoding="utf-8")
    stopped = _described_notebook(tmp_path / "full" / "01_a.ipynb")   # a run that did not complete
    assert main(["--out", str(out), "--full", str(tmp_path / "full"), *map(str, sample)]) == 0
    assert "no full-size notebooks" in capsys.readouterr().out   # a partly executed copy is never shown
    nb = nbformat.read(stopped, as_version=4)
    record_run(nb, seconds=5.0, environ={"RECASKETCH_DATA": "mine", "RECASKETCH_BUDGET": "full"})
    nbformat.write(nb, stopped)
    assert main(["--out", str(out), "--full", str(tmp_path / "full"), *map(str, sample)]) == 0
    assert "and the sample run in sample/" in capsys.readouterr().out
    assert "Full-size run" in (out / "index.html").read_text(encoding="utf-8")
    assert 'href="sample/02_b.html"' in (out / "index.html").read_text(encoding="utf-8")
    alone = tmp_path / "alone"
    assert main(["--out", str(alone), *map(str, sample)]) == 0  # named alone: as they are
    assert sorted(p.name for p in alone.iterdir()) == ["01_a.html", "02_b.html", "index.html"]
    assert '<p class="site-run">' not in (alone / "index.html").read_text(encoding="utf-8")


#: Links and image sources a notebook's text could carry: (markdown, must survive or not).
_HOSTILE_URLS = [
    "javascript:window.__pwned=5", " JaVa\tScRiPt:window.__pwned=6", "vbscript:msgbox(1)",
    "data:text/html,<script>window.__pwned=7</script>", "files/javascript:window.__pwned=8",
    "jav&#x61;script:window.__pwned=9",
]
_PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
        "HwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
_SAFE_LINKS = {"https://example.org/a", "other.html#part", "#A-heading"}


def _link_notebook(path: Path) -> Path:
    """A notebook whose markdown cell, purpose paragraph, raw cell and Markdown and HTML
    outputs link to ``_HOSTILE_URLS``, next to links and images that must keep working."""
    bad_md = " ".join(f"[bad{i}]({url.strip()})" for i, url in enumerate(_HOSTILE_URLS))
    bad_img = " ".join(f"![bad]({url.strip()})" for url in _HOSTILE_URLS)
    bad_html = "".join(f'<a href="{url}">bad</a><img src="{url}">' for url in _HOSTILE_URLS)
    good = (f"[web](https://example.org/a) [there](other.html#part) [here](#A-heading) "
            f"![fig]({_PNG})")
    purpose = "The purpose, with a [link](javascript:window.__pwned=10)."
    nb = new_notebook(cells=[
        new_markdown_cell(f"# 98 — Links\n\n{purpose}\n\n## A heading\n\n{bad_md}\n\n"
                          f"{bad_img}\n\n{bad_html}\n\n{good}"),
        nbformat.v4.new_raw_cell(bad_html, metadata={"raw_mimetype": "text/html"}),
        new_code_cell("show()", execution_count=1, outputs=[
            new_output("display_data", data={"text/markdown": f"{bad_md}\n\n{bad_img}\n\n"
                                                              f"**Top model:** {NAME}",
                                             "text/plain": "links"}),
            new_output("display_data", data={"text/html": bad_html + f'<img src="{_PNG}">',
                                             "text/plain": "links"})]),
    ])
    nbformat.write(nb, path)
    return path


class _URLs(HTMLParser):
    """Collect ``(tag, attribute, value)`` of every ``href`` and ``src`` in a page."""

    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found += [(tag, name, value) for name, value in attrs if name in ("href", "src")]


def _is_safe(tag, value):
    """A browser's reading of the URL: relative, http(s), or a ``data:image`` picture."""
    url = "".join(ch for ch in value if ch > " " and ch != "`").lower()
    scheme = urlsplit(url).scheme
    return scheme in ("", "http", "https") or (tag == "img" and url.startswith("data:image/"))


def test_sanitize_html_keeps_links_to_the_web_and_pictures_only():
    assert sanitize_html('<a href="vbscript:x">v</a>') == "<a>v</a>"
    assert sanitize_html('<a href=" java&#9;script:x">v</a>') == "<a>v</a>"
    assert sanitize_html('<a href="data:text/html,x">v</a><img src="data:text/html,x">') == \
        "<a>v</a><img>"
    assert sanitize_html('<a href="data:image/png;base64,AAAA">v</a>') == "<a>v</a>"
    kept = f'<a href="https://example.org/a">w</a><a href="#x">h</a><img src="{_PNG}">'
    assert sanitize_html(kept) == kept


def test_markdown_and_html_links_are_sanitised_after_rendering(tmp_path):
    out = tmp_path / "site"
    index, page = build_site([_link_notebook(tmp_path / "98_links.ipynb")], out)
    for html in (index.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")):
        unsafe = [(tag, value[:60]) for tag, _, value in _URLs(html).found
                  if not _is_safe(tag, value)]
        assert not unsafe, f"links or images that could run or show a script: {unsafe}"
    html = page.read_text(encoding="utf-8")
    assert "<strong>Top model:</strong> &lt;script&gt;" in html  # a name, shown as text
    found = _URLs(html).found
    assert _SAFE_LINKS <= {value for tag, _, value in found if tag == "a"}
    assert sum(value == _PNG for tag, _, value in found if tag == "img") == 2


def _plain_notebook(path: Path) -> Path:
    """A notebook with no H1, so its page is titled by its file name."""
    nbformat.write(new_notebook(cells=[new_markdown_cell("Some text.")]), path)
    return path


_ODD_STEMS = ["01 a #1 & b?", "02 50% done", "03 <plain>"]


def test_file_names_with_url_characters_are_quoted_in_links(tmp_path):
    notebooks = [_plain_notebook(tmp_path / f"{stem}.ipynb") for stem in _ODD_STEMS]
    out = tmp_path / "site"
    pages = build_site(notebooks, out)
    assert [p.name for p in pages] == ["index.html", *(f"{s}.html" for s in _ODD_STEMS)]
    index = pages[0].read_text(encoding="utf-8")
    hrefs = [value for tag, _, value in _URLs(index).found if tag == "a"]
    assert hrefs == [quote(f"{s}.html", safe="") for s in _ODD_STEMS]
    for href in hrefs:
        url = urlsplit(href)
        assert not (url.scheme or url.query or url.fragment) and (out / unquote(url.path)).is_file()
    assert "01 a #1 &amp; b?" in index and "03 &lt;plain&gt;" in index and "<plain>" not in index
    for i, page in enumerate(pages[1:]):
        html = page.read_text(encoding="utf-8")
        nav = [value for tag, _, value in _URLs(html).found if tag == "a"]
        expected = [*hrefs[max(i - 1, 0):i], "index.html", *hrefs[i + 1:i + 2]]
        assert nav == expected * 2, f"{page.name}: navigation {nav}"
        assert "<title>" + _ODD_STEMS[i].replace("&", "&amp;").replace("<", "&lt;") \
            .replace(">", "&gt;") + "</title>" in html


# --- in the browser -------------------------------------------------------------------------

def _chromium():
    """A Selenium Chrome driver on the system's Chromium, or a skip saying what is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                    "(pip install -r requirements.lock): browser check skipped")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver, as "
                    ".ci/run does): the browser check of the rendered site is skipped")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(arg)  # the last one: any request to the network fails, loudly
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(driver))


@pytest.fixture(scope="module")
def browser():
    driver = _chromium()
    yield driver
    driver.quit()


_PAGE_STATE = """
return {
  title: document.title,
  ready: document.readyState,
  images: Array.from(document.images).map(i => ({src: i.src.slice(0, 60), complete: i.complete,
                                                width: i.naturalWidth})),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
  pwned: typeof window.__pwned,
  header: (document.querySelector('header.site-header') || {}).innerText || null,
  headerVisible: !!document.querySelector('header.site-header')
                 && document.querySelector('header.site-header').getBoundingClientRect().height > 0,
  figures: Array.from(document.querySelectorAll('.jp-OutputArea-output img'))
                .filter(i => i.complete && i.naturalWidth > 0).length,
};
"""


def test_every_page_in_chromium(site, browser, tmp_path_factory):
    out, pages = site
    states = {}
    for page in pages:
        browser.get(page.as_uri())
        state = browser.execute_script(_PAGE_STATE)
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        states[page.resolve()] = state
        assert state["ready"] == "complete" and state["title"], f"{page.name} did not load"
        broken = [i["src"] for i in state["images"] if not i["complete"] or i["width"] == 0]
        assert not broken, f"{page.name}: images that did not decode: {broken}"
        assert not errors, f"{page.name}: console errors: {errors}"
        assert state["pwned"] == "undefined", f"{page.name} ran a script from its data"
        if page.name != "index.html":
            assert state["headerVisible"], f"{page.name}: no header line on the page"
            for label in ("Data:", "Budget:", "Machine:", "Wall time:"):
                assert label in state["header"], f"{page.name}: {label} missing from {state['header']}"
    assert sum(len(s["images"]) for s in states.values()) > 0, "no figure on any page"
    full = states[(out / "01_wrmf_als.html").resolve()]  # the committed full-size notebook 01
    assert "Full-size run" in full["header"] and "Budget: full" in full["header"]
    assert "synthetic-full" in full["header"]
    assert full["figures"] >= 4, f"the full-size page shows {full['figures']} figures"

    for page, state in states.items():
        for href in state["links"]:
            url = urlsplit(href)
            if url.scheme != "file":
                continue  # links out to the web: references, not navigation
            target = Path(unquote(url.path)).resolve()
            assert target in states, f"{page.name}: link to {href} leads to no page"
            if url.fragment:
                assert url.fragment in states[target]["ids"] or \
                    unquote(url.fragment) in states[target]["ids"], \
                    f"{page.name}: link to {href} has no anchor there"

    shots = tmp_path_factory.mktemp("screenshots")
    browser.get(pages[0].as_uri())
    browser.save_screenshot(str(shots / "index.png"))
    browser.get(pages[1].as_uri())  # an image grid in an HTML output if there is one, else a figure
    browser.execute_script("(document.querySelector('.jp-RenderedHTML img') || document.images[0])"
                           ".scrollIntoView({block: 'center'})")
    browser.save_screenshot(str(shots / f"{pages[1].stem}.png"))
    print(f"\nscreenshots: {shots / 'index.png'} {shots / (pages[1].stem + '.png')}")


_LINK_STATE = """
return {
  title: document.title,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  images: Array.from(document.images).filter(i => i.getAttribute('src')).map(i => i.src),
  pwned: typeof window.__pwned,
};
"""


def test_odd_names_and_hostile_links_in_chromium(tmp_path, browser):
    notebooks = [_plain_notebook(tmp_path / f"{stem}.ipynb") for stem in _ODD_STEMS]
    pages = build_site([*notebooks, _link_notebook(tmp_path / "98 #links.ipynb")],
                       tmp_path / "site")
    titles = {page.resolve(): None for page in pages}
    for page in pages:
        browser.get(page.as_uri())
        state = browser.execute_script(_LINK_STATE)
        titles[page.resolve()] = state["title"]
        assert state["pwned"] == "undefined", f"{page.name} ran a script"
        bad = [u[:60] for u in state["links"] + state["images"]
               if urlsplit(u).scheme not in ("file", "http", "https", "data")]
        bad += [u[:60] for u in state["links"] if u.startswith("data:")]
        bad += [u[:60] for u in state["images"] if u.startswith("data:")
                and not u.startswith("data:image/")]
        assert not bad, f"{page.name}: links or images that are not to pages or pictures: {bad}"
        for href in state["links"]:
            url = urlsplit(href)
            if url.scheme == "file" and url.path.endswith(".html") and "other.html" not in url.path:
                assert Path(unquote(url.path)).resolve() in titles, \
                    f"{page.name}: link to {href} leads to no page"
    assert [titles[p.resolve()] for p in pages[1:4]] == _ODD_STEMS
