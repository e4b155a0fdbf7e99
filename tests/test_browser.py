"""The report and the web app in a real browser (Debian's chromium through Playwright), on the demo corpus.

A journalist's path: overview -> the largest family -> the copy side by side with its source, where the
injected phrase must be visible and highlighted. Screenshots go to artifacts/browser/ (git-ignored). Skips
when the demo corpus, Playwright or /usr/bin/chromium is absent."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "corpus"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts" / "browser"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PHRASE = "backed by Veldran"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, Path]:
    """(store, report.html) from `analyze` on the demo corpus; without signals when the technique model is not
    built (the family view under test comes from the edits stage)."""
    if not (DEMO / "truth.json").exists():
        pytest.skip("demo corpus absent")
    from newstrace.pipeline import Run, analyze, parse_stages
    from newstrace.store import Store

    stage_sets = [parse_stages(None), parse_stages("ingest,reuse,edits,network,report")]
    for n, stages in enumerate(stage_sets):
        out = tmp_path_factory.mktemp(f"demo{n}")
        db = out / "store.duckdb"
        try:
            with Store(db) as store:
                analyze(Run(store=store, inputs=[DEMO], out_dir=out), stages)
            return db, out / "report.html"
        except FileNotFoundError:  # the shipped technique model is missing: `make train`
            continue
    pytest.fail("analyze failed on the demo corpus")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(10_000)
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    pg.close()


def _assert_highlighted(page) -> None:
    marks = page.locator("mark.sys", has_text=PHRASE)
    marks.first.scroll_into_view_if_needed()
    assert marks.first.is_visible()
    background = marks.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.locator(".explain", has_text=PHRASE).first.is_visible()


def test_report_family_shows_the_injected_phrase(demo, page):
    _, report = demo
    page.goto(report.as_uri())
    assert page.locator("#overview h1").is_visible()
    page.screenshot(path=str(ARTIFACTS / "report-overview.png"), full_page=True)
    row = page.locator("#overview table.families tr", has_text="Tarnholm Depot Blast")
    row.get_by_text("open family").click()
    assert page.locator(".page:target h2", has_text="Laundering chain").is_visible()
    assert page.locator(".page:target .chain .node").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "report-family.png"))
    _assert_highlighted(page)
    page.screenshot(path=str(ARTIFACTS / "report-family-diff.png"))
    # The client-side search (the only script; a CSP violation would show as a console error).
    page.goto(report.as_uri() + "#articles")
    page.fill("#q", "tarnholm")
    rows = page.locator("#article-results tbody tr")
    assert 1 <= rows.count() < 35
    page.screenshot(path=str(ARTIFACTS / "report-search.png"))
    assert not page.errors, page.errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(demo):
    import uvicorn

    from newstrace.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(demo[0]), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_app_family_and_check(served, demo, page):
    page.goto(served + "/")
    page.screenshot(path=str(ARTIFACTS / "app-overview.png"), full_page=True)
    page.locator("table.families tr", has_text="Tarnholm Depot Blast").get_by_text("open family").click()
    page.wait_for_load_state()
    assert "/family/" in page.url
    _assert_highlighted(page)
    page.screenshot(path=str(ARTIFACTS / "app-family-diff.png"))
    # Paste a copy's text into the check box: its source comes back.
    import json

    articles = [json.loads(line) for line in (demo[1].parent / "articles.jsonl").read_text().splitlines()]
    copy = next(a for a in articles if a["id"] == "eh-tarnholm")
    page.goto(served + "/check")
    page.fill("textarea[name=text]", copy["text"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h2", has_text="Where it came from").is_visible()
    assert page.locator(".card b a").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "app-check.png"), full_page=True)
    assert not page.errors, page.errors


def test_hostile_payloads_never_run_in_the_report_the_exports_or_the_app(hostile_outputs, browser, tmp_path):
    """benchmarks/hostile.py's walk: the report, diff page, SVG, XML and text exports, and every app page (404s and
    checks of payload texts included). Control pages prove the detectors work."""
    from conftest import bench_module

    out, db = hostile_outputs
    walk = bench_module("hostile").campaign(out, db, tmp_path, browser)
    assert walk["pages"] > 100 and walk["controls"]["executed"] >= 2 and walk["controls"]["csp"] >= 1
    assert walk["executed"] == [] and walk["dialogs"] == 0
    assert walk["csp"] == [] and walk["external"] == [] and walk["errors"] == []
