"""The rendered tutorial: built from the committed notebooks, opened in headless Chromium.

The browser half needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them); where they are missing it is skipped with a message saying so.
"""

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from recasketch import config
from recasketch.tools.site import build_site, data_description

NOTEBOOKS = sorted((config.PROJ_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
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
    root = tmp_path_factory.mktemp("site")
    hostile = _hostile_notebook(root / "99_names.ipynb")
    pages = build_site([*NOTEBOOKS, hostile], root / "site")
    return root / "site", pages


def test_data_description_is_read_from_the_outputs():
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    assert data_description(nb).startswith("sample: SYNTHETIC data made by recasketch.synthetic")
    assert data_description(new_notebook(cells=[new_code_cell("1")])) is None


def test_build_site_writes_index_and_one_page_per_notebook(site):
    out, pages = site
    assert [p.name for p in pages] == ["index.html", *(f"{nb.stem}.html" for nb in NOTEBOOKS),
                                       "99_names.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("synthetic data</span>") == len(NOTEBOOKS)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html, f"{page.name} holds a script"
        assert 'http-equiv="Content-Security-Policy"' in html
    names = (out / "99_names.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in names


def test_build_site_guards(tmp_path):
    with pytest.raises(ValueError, match="No notebooks"):
        build_site([], tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_site([tmp_path / "missing.ipynb"], tmp_path)
    with pytest.raises(ValueError, match="share a name"):
        build_site([NOTEBOOKS[0], NOTEBOOKS[0]], tmp_path)


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
    assert sum(len(s["images"]) for s in states.values()) > 0, "no figure on any page"

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
