"""Fuzzing campaign: generated and mutated inputs through every reader, `align`, `diff`, `signals` and `/check`.

Each target runs `--cases` generated inputs (hypothesis, seeded) and counts:
- crashes: an exception escaping the code under test, or a reader's "unexpected error" problem (the last-resort
  catch that keeps a corpus run going, which the fuzzer still counts as a bug);
- wrong results: a broken invariant (an offset outside its text, a span whose text does not match, a record that is
  neither an article nor a problem, a 5xx answer, a `<script` in an app page);
- hangs: a case over `--hang-seconds` (the whole run stops, with a traceback, if one runs that long);
and reports the slowest case. Nothing is written outside a temporary folder.

    python benchmarks/fuzz.py                          # 10 targets x 1,000 cases = 10,000 cases, seed 14
    python benchmarks/fuzz.py --cases 100 --targets jsonl csv
    python benchmarks/fuzz.py --engine atheris --targets warc_gz --cases 20000   # coverage-guided, byte targets

`tests/test_fuzz.py` runs a smaller seeded set of every target in `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import gzip
import io
import json
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

warnings.filterwarnings("ignore")

# ---- building blocks ----------------------------------------------------------------------------------------------

WORDS = (
    "the council said officials police report Daesh ISIS terrorists backed by Saudi Arabia sources say analysts "
    "believe according to witnesses reported minister claimed denied harbour breakwater storm week vote , . ; : ! ? "
    "“ ” ‘ ’ \" ' — – ( ) [ ] 0 1 2024 2025-03-04 https://x.example/a?b=1&c=2 @user #tag"
).split()
HOSTILE = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "</textarea>",
    "{{7*7}}", "${7*7}", "=HYPERLINK(\"http://evil.example\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(1)",
    "\x00", "\x1b[31m", "\u202e", "\u200b", "\ufeff", "\ud7ff", "\U0001f600", "e\u0301", "\r", "\t", "[bold]x[/]",
    "'; DROP TABLE articles; --", "../../etc/passwd", "%2e%2e%2f", "&amp;", "&#0;", "&#x110000;", "<!--", "]]>",
]
SEPARATORS = [" ", " ", " ", "\n", "\n\n", ", ", ". ", "\r\n", "\t", "\u00a0", "", "  "]

token = st.one_of(st.sampled_from(WORDS), st.sampled_from(HOSTILE), st.text(max_size=6))
texts = st.builds(lambda toks, seps: "".join(t + seps[i % len(seps)] for i, t in enumerate(toks)),
                  st.lists(token, max_size=220), st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=8))


@st.composite
def text_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A source text and a copy made from it by random edits: the aligner and diff see real reuse, not noise."""
    words = draw(st.lists(token, min_size=0, max_size=260))
    copy = list(words)
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "move", "repeat", "case"]))
        at = draw(st.integers(0, max(len(copy), 1)))
        if kind == "insert":
            copy[at:at] = draw(st.lists(token, min_size=1, max_size=6))
        elif kind == "delete":
            del copy[at:at + draw(st.integers(1, 20))]
        elif kind == "replace" and copy:
            old, new = draw(st.sampled_from(copy)), draw(token)
            copy = [new if w == old else w for w in copy]
        elif kind == "move" and copy:
            piece = copy[at:at + draw(st.integers(1, 30))]
            del copy[at:at + len(piece)]
            where = draw(st.integers(0, len(copy)))
            copy[where:where] = piece
        elif kind == "repeat":
            copy = copy + copy[: draw(st.integers(0, 40))]
        elif copy:
            copy = [w.upper() if draw(st.booleans()) else w for w in copy]
    sep = draw(st.sampled_from([" ", "\n", " \n ", ", "]))
    return sep.join(words), sep.join(copy)


def mutate(data: bytes, rnd: random.Random, times: int) -> bytes:
    """Byte-level damage: flips, cuts, insertions and duplications."""
    buf = bytearray(data)
    for _ in range(times):
        if not buf:
            buf += bytes([rnd.randrange(256)])
            continue
        at = rnd.randrange(len(buf))
        kind = rnd.randrange(5)
        if kind == 0:
            buf[at] = rnd.randrange(256)
        elif kind == 1:
            del buf[at:at + rnd.randrange(1, 64)]
        elif kind == 2:
            buf[at:at] = rnd.choice([b"\x00", b"\xff\xfe", b"\r\n", b"<", b"\"", b"\xc3", b"\x1f\x8b", b"\n\n"])
        elif kind == 3:
            buf[at:at] = buf[at:at + rnd.randrange(1, 200)]
        else:
            del buf[at:]
    return bytes(buf)


def damaged(st_bytes: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """A strategy's bytes, intact about half the time, otherwise mutated a few times."""
    return st.builds(lambda data, s, n: data if n == 0 else mutate(data, random.Random(s), n),
                     st_bytes, st.integers(0, 2**32), st.sampled_from([0, 0, 0, 1, 2, 5, 20]))


# ---- inputs per format --------------------------------------------------------------------------------------------

TAGS = ["p", "div", "article", "main", "span", "a", "h1", "h2", "title", "script", "style", "meta", "link", "br",
        "img", "table", "tr", "td", "ul", "li", "svg", "math", "template", "noscript", "iframe", "time", "header",
        "footer", "nav", "aside", "textarea", "select", "option", "form", "base", "object", "xmp", "plaintext"]
ATTRS = ["href", "src", "content", "property", "name", "datetime", "onerror", "onload", "style", "itemprop", "rel",
         "charset", "http-equiv", "class", "id", "srcdoc"]
ATTR_VALUES = st.one_of(st.sampled_from(["article:published_time", "og:published_time", "datePublished", "canonical",
                                         "2025-03-04T08:00:00+01:00", "2025-13-45", "yesterday", "utf-8", "latin-1",
                                         "refresh"]),
                        st.sampled_from(HOSTILE), st.text(max_size=20))
html_nodes = st.recursive(
    texts,
    lambda kids: st.builds(
        lambda tag, attrs, children, closed: f"<{tag}"
        + "".join(f' {k}="{v}"' for k, v in attrs) + ">" + "".join(children) + (f"</{tag}>" if closed else ""),
        st.sampled_from(TAGS), st.lists(st.tuples(st.sampled_from(ATTRS), ATTR_VALUES), max_size=3),
        st.lists(kids, max_size=5), st.booleans()),
    max_leaves=25)
RAW_HTML = ["<!doctype html>", "<!--", "-->", "<![CDATA[", "]]>", "&#x0;", "&amp", "</", "<?xml version='1.0'?>",
            "<html>", "</html>", "<body>", "<head>", "\x00", "<meta charset=\"utf-16\">"]
html_docs = st.builds(
    lambda parts, enc: "".join(parts).encode(enc, "replace"),
    st.lists(st.one_of(html_nodes, st.sampled_from(RAW_HTML)), max_size=8),
    st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16", "cp1252"]))
nested_html = st.builds(lambda tag, depth: (f"<{tag}>" * depth + "deep words here" + f"</{tag}>" * depth).encode(),
                        st.sampled_from(["div", "p", "b", "table", "span"]), st.integers(10, 6000))

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**80, 2**80), st.floats(allow_nan=True),
                         st.text(max_size=30), st.sampled_from(HOSTILE))
json_values = st.recursive(JSON_SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c,
                                                                                              max_size=3), max_leaves=6)
FIELDS = ["id", "url", "outlet", "published", "title", "text", "html"]
records = st.dictionaries(st.sampled_from(FIELDS),
                          st.one_of(json_values, texts, html_docs.map(lambda b: b.decode("utf-8", "replace"))),
                          max_size=7)
JSONL_JUNK = [b"{", b"[" * 5000, b"{\"text\": " * 3000, b"\xff\xfe", b"null", b"[]", b"\"text\"", b"1e999999",
              b"{\"text\": \"a\", \"text\": 5}", b"\xef\xbb\xbf{\"text\": \"bom\"}", b"NaN"]
jsonl_files = damaged(st.builds(
    lambda lines: b"".join(lines),
    st.lists(st.one_of(records.map(lambda r: json.dumps(r).encode() + b"\n"),
                       st.sampled_from(JSONL_JUNK).map(lambda b: b + b"\n"), st.just(b"\n")), max_size=8)))

csv_cells = st.one_of(texts, st.sampled_from(HOSTILE), st.just(""), st.text(max_size=40))


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from(FIELDS + ["extra", "", "text ", "TEXT"]), min_size=0, max_size=8))
    out = io.StringIO()
    import csv

    writer = csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])))
    if draw(st.booleans()):
        writer.writerow(header)
    else:
        out.write(",".join(header) + "\n")
    for row in draw(st.lists(st.lists(csv_cells, max_size=len(header) + 2), max_size=6)):
        writer.writerow(row)
    data = (draw(st.sampled_from(["", "\ufeff"])) + out.getvalue()).encode()
    return draw(damaged(st.just(data)))


@st.composite
def warc_files(draw: st.DrawFn) -> bytes:
    """WARC records with odd headers, lengths, encodings and bodies; gzip per record or not; then damaged."""
    compressed = draw(st.booleans())
    parts = []
    for n in range(draw(st.integers(0, 4))):
        body = draw(st.one_of(html_docs, nested_html, st.binary(max_size=300)))
        encoding = draw(st.sampled_from(["", "", "gzip", "gzip-broken", "chunked", "chunked-broken", "deflate"]))
        headers = [f"Content-Type: {draw(st.sampled_from(['text/html', 'text/html; charset=latin-1', 'image/png', '', 'text/plain', 'application/xhtml+xml']))}"]  # noqa: E501
        if encoding.startswith("gzip"):
            body = gzip.compress(body)
            body = body[: len(body) // 2] if encoding == "gzip-broken" else body
            headers.append("Content-Encoding: gzip")
        elif encoding == "deflate":
            headers.append("Content-Encoding: deflate")
        elif encoding.startswith("chunked"):
            body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
            body = body.replace(b"\r\n", b"\n", 1) if encoding == "chunked-broken" else body
            headers.append("Transfer-Encoding: chunked")
        status = draw(st.sampled_from(["HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "HTTP/1.1 200", "garbage", ""]))
        http = (status + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body
        length = draw(st.sampled_from([len(http), len(http), len(http) + 10, max(len(http) - 10, 0), -5, "x"]))
        kind = draw(st.sampled_from(["response", "response", "request", "warcinfo", "resource", "revisit", "bogus"]))
        url = draw(st.one_of(st.sampled_from(["https://a.example/1", "http://b.example/x?y=<z>", "dns:x", "",
                                              "javascript:alert(1)", "https://[::1/", "http://xn--ls8h.example/"]),
                             st.text(max_size=20)))
        url = "".join(ch for ch in url if ch not in "\r\n")
        head = (f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {url}\r\nWARC-Record-ID: <urn:uuid:{n}>\r\n"
                f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n")
        record = head.encode("utf-8", "replace") + http + b"\r\n\r\n"
        parts.append(gzip.compress(record) if compressed else record)
    return draw(damaged(st.just(b"".join(parts))))


txt_files = damaged(st.one_of(texts.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=500),
                              st.sampled_from([b"", b"   \n", b"\xef\xbb\xbf", b"\xff\xfe\x00a"])))

# ---- targets --------------------------------------------------------------------------------------------------------


class Wrong(Exception):
    """A broken invariant: a wrong result rather than a crash."""


def check_span(start: object, end: object, n: int, what: str) -> None:
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= n):
        raise Wrong(f"{what} [{start}, {end}) outside a text of {n} characters")


@dataclass
class Context:
    tmp: Path
    store: object = None
    client: object = None
    runner: object = None
    n: int = 0


def check_reader(ctx: Context, suffix: str, data: bytes) -> None:
    from datetime import datetime

    from newstrace.ingest.sources import UNEXPECTED, Problem, read_file
    from newstrace.model import Article

    ctx.n += 1
    path = ctx.tmp / f"case{ctx.n}{suffix}"
    path.write_bytes(data)
    articles = []
    for record in read_file(path, max_bytes=200_000, doc_seconds=20):
        if isinstance(record, Problem):
            if record.reason.startswith(UNEXPECTED):
                raise RuntimeError(record.reason)
            if not (isinstance(record.reason, str) and record.reason and record.file == str(path)):
                raise Wrong(f"problem without file or reason: {record!r}")
            continue
        if not isinstance(record, Article):
            raise Wrong(f"reader yielded {type(record).__name__}")
        if not (isinstance(record.id, str) and record.id and isinstance(record.text, str) and record.text.strip()):
            raise Wrong(f"article without id or text: {record.id!r}")
        for name in ("url", "outlet", "title"):
            if getattr(record, name) is not None and not isinstance(getattr(record, name), str):
                raise Wrong(f"article {name} is {type(getattr(record, name)).__name__}")
        if record.published is not None and (not isinstance(record.published, datetime)
                                             or record.published.utcoffset() is None):
            raise Wrong(f"published is not a timezone-aware datetime: {record.published!r}")
        articles.append(record)
    ctx.store.add_articles(articles)  # the store takes whatever a reader yields
    path.unlink()


def _write_pair(ctx: Context, source: str, copy: str, raw: bool) -> tuple[Path, Path]:
    ctx.n += 1
    s, c = ctx.tmp / f"s{ctx.n}.txt", ctx.tmp / f"c{ctx.n}.txt"
    encode = (lambda t: t.encode("utf-8", "surrogateescape")) if raw else (lambda t: t.encode("utf-8", "replace"))
    s.write_bytes(encode(source))
    c.write_bytes(encode(copy))
    return s, c


def _cli(ctx: Context, args: list[str]) -> str:
    from newstrace.cli import app

    result = ctx.runner.invoke(app, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code not in (0, 1):
        raise Wrong(f"exit status {result.exit_code}: {result.output[-300:]}")
    return result.stdout if result.exit_code == 0 else ""


def check_align(ctx: Context, pair: tuple[str, str], view: int) -> None:
    from newstrace.reuse.align import align

    source, copy = pair
    for p in align(source, copy):
        check_span(p.source_start, p.source_end, len(source), "source passage")
        check_span(p.copy_start, p.copy_end, len(copy), "copy passage")
    s, c = _write_pair(ctx, source, copy, raw=view == 2)
    out = _cli(ctx, ["align", str(c), str(s), *(["--json"] if view == 1 else [])])
    if view == 1 and out:
        for q in json.loads(out)["passages"]:
            check_span(q["copy_start"], q["copy_end"], len(copy), "CLI copy passage")


def check_diff(ctx: Context, pair: tuple[str, str], view: int) -> None:
    from newstrace.edits.corpus import pair_record
    from newstrace.reuse.align import align

    source, copy = pair
    record = pair_record("s", "c", source, copy, align(source, copy))
    for e in record["edits"]:
        check_span(e["source_start"], e["source_end"], len(source), "edit source")
        check_span(e["copy_start"], e["copy_end"], len(copy), "edit copy")
        if source[e["source_start"]:e["source_end"]] != e["source_text"] or \
                copy[e["copy_start"]:e["copy_end"]] != e["copy_text"]:
            raise Wrong(f"edit text does not match its offsets: {e}")
    for s in record["systematic"]:
        for a, b in s["copy_spans"]:
            check_span(a, b, len(copy), "systematic span")
    s_path, c_path = _write_pair(ctx, source, copy, raw=False)
    extra = [["--json"], [], ["--html", str(ctx.tmp / "d.html")]][view % 3]
    _cli(ctx, ["diff", str(s_path), str(c_path), *extra])


def check_signals(ctx: Context, text: str, view: int) -> None:
    from newstrace.report.marks import TECHNIQUES
    from newstrace.signals.analyse import analyse_text

    row = analyse_text(text)
    n = len(text)
    for t in row["techniques"]:
        check_span(t["start"], t["end"], n, "technique")
        if t["technique"] not in TECHNIQUES:
            raise Wrong(f"unknown technique {t['technique']!r}")
    for a in row["attributions"]:
        check_span(a["start"], a["end"], n, "attribution")
        if a["kind"] not in ("named", "anonymous", "unattributed"):
            raise Wrong(f"attribution kind {a['kind']!r}")
    for i in row["injections"]:
        for a, b in i["spans"] + i["seams"]:
            check_span(a, b, n, "injection")
    ctx.n += 1
    path = ctx.tmp / f"sig{ctx.n}.txt"
    path.write_bytes(text.encode("utf-8", "replace"))
    _cli(ctx, ["signals", str(path), *[[], ["--jsonl"], ["--json"]][view % 3]])


@st.composite
def check_requests(draw: st.DrawFn) -> tuple:
    kind = draw(st.sampled_from(["text", "text", "html", "file", "raw", "get"]))
    if kind in ("text", "html"):
        return kind, draw(texts)
    if kind == "file":
        return kind, draw(st.one_of(txt_files, html_docs))
    if kind == "raw":
        ctype = draw(st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data",
                                      "multipart/form-data; boundary=x", "text/plain", "application/json", ""]))
        return kind, (ctype, draw(st.binary(max_size=400)))
    segment = st.one_of(st.sampled_from(["..", "%2e%2e", "..%2f", "%2F", "etc", "passwd", "static", "article",
                                         "family", "pair.json", "check", "index.json", "%00", "~", "//", "a.json"]),
                        st.text(max_size=8))
    path = "/" + "/".join(draw(st.lists(segment, min_size=1, max_size=5)))
    query = draw(st.sampled_from(["", "?source=a&copy=b", "?page=0", "?page=-1", "?page=99999999999", "?q=%00",
                                  "?q=" + "a" * 300, "?findings=maybe"]))
    return kind, path + query


def check_app(ctx: Context, request: tuple) -> None:
    kind, payload = request
    client = ctx.client
    if kind == "get":
        try:
            r = client.get(payload)
        except Exception as exc:  # httpx rejects some URLs before sending them: not the app's doing
            if type(exc).__module__.startswith("httpx"):
                return
            raise
    elif kind == "text":
        r = client.post("/check.json", data={"text": payload})
    elif kind == "html":
        r = client.post("/check", data={"text": payload})
    elif kind == "file":
        r = client.post("/check.json", files={"file": ("up.txt", payload)})
    else:
        ctype, body = payload
        r = client.post("/check.json", content=body, headers={"content-type": ctype} if ctype else {})
    if r.status_code >= 500:
        raise Wrong(f"{r.status_code} for {kind} {str(payload)[:80]!r}: {r.text[:200]}")
    if "text/html" in r.headers.get("content-type", "") and "<script" in r.text.lower():
        raise Wrong(f"a <script> in an app page for {kind} {str(payload)[:80]!r}")
    if r.status_code == 200 and kind in ("text", "file") and r.headers["content-type"].startswith("application/json"):
        body = r.json()
        n = body["chars"]
        for src in body["sources"]:
            for p in src["passages"]:
                check_span(p["copy_start"], p["copy_end"], n, "check passage")
        for t in body["article"]["techniques"]:
            check_span(t["start"], t["end"], n, "check technique")


@dataclass(frozen=True)
class Target:
    strategy: st.SearchStrategy
    check: Callable[[Context, object], None]
    needs: str = ""  # "store", "client", "runner"


def _variant(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(strategy, st.integers(0, 2))


TARGETS: dict[str, Target] = {
    "txt": Target(txt_files, lambda c, d: check_reader(c, ".txt", d), "store"),
    "html": Target(damaged(st.one_of(html_docs, html_docs, nested_html)), lambda c, d: check_reader(c, ".html", d),
                   "store"),
    "warc": Target(warc_files().filter(lambda b: not b.startswith(b"\x1f\x8b")) | warc_files(),
                   lambda c, d: check_reader(c, ".warc", d), "store"),
    "warc_gz": Target(warc_files(), lambda c, d: check_reader(c, ".warc.gz", d), "store"),
    "jsonl": Target(jsonl_files, lambda c, d: check_reader(c, ".jsonl", d), "store"),
    "csv": Target(csv_files(), lambda c, d: check_reader(c, ".csv", d), "store"),
    "align": Target(_variant(text_pairs()), lambda c, d: check_align(c, *d), "runner"),
    "diff": Target(_variant(text_pairs()), lambda c, d: check_diff(c, *d), "runner"),
    "signals": Target(_variant(texts), lambda c, d: check_signals(c, *d), "runner"),
    "check": Target(check_requests(), check_app, "client"),
}


# ---- running --------------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    cases: int = 0
    crashes: int = 0
    wrong: int = 0
    slowest: float = 0.0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)


def app_client(tmp: Path) -> object:
    """A TestClient over a small store of generated articles, with its query index."""
    from fastapi.testclient import TestClient

    from newstrace.model import Article
    from newstrace.reuse.query import index_articles
    from newstrace.store import Store
    from newstrace.web.app import create_app

    rnd = random.Random(14)
    db = tmp / "app.duckdb"
    with Store(db) as store:
        store.add_articles([Article(id=f"a{i}", outlet=f"o{i % 5}.example", title=rnd.choice(HOSTILE),
                                    text=" ".join(rnd.choice(WORDS) for _ in range(300))) for i in range(60)])
        index_articles(store.con)
    client = TestClient(create_app(db, max_upload=64_000))
    client.__enter__()
    return client


def make_context(tmp: Path, needs: set[str]) -> Context:
    ctx = Context(tmp=tmp)
    if "store" in needs:
        from newstrace.store import Store

        ctx.store = Store(":memory:")
    if "runner" in needs:
        from typer.testing import CliRunner

        ctx.runner = CliRunner()
    if "client" in needs:
        ctx.client = app_client(tmp)
    return ctx


def run_target(name: str, ctx: Context, cases: int, seed: int, hang_seconds: float) -> Tally:
    """`cases` generated inputs through one target; every failure is counted, none stops the run."""
    target = TARGETS[name]
    tally = Tally()

    @hypothesis_seed(seed)
    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate], derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def one(case: object) -> None:
        tally.cases += 1
        started = time.perf_counter()
        faulthandler.dump_traceback_later(hang_seconds, exit=True)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                target.check(ctx, case)
        except Wrong as exc:
            tally.wrong += 1
            tally.examples.append(f"wrong: {exc} <- {repr(case)[:300]}")
        except Exception as exc:
            tally.crashes += 1
            tally.examples.append(f"crash: {type(exc).__name__}: {exc} <- {repr(case)[:300]}")
        finally:
            faulthandler.cancel_dump_traceback_later()
            spent = time.perf_counter() - started
            tally.seconds += spent
            tally.slowest = max(tally.slowest, spent)

    one()
    return tally


def run_hypothesis(names: list[str], cases: int, seed: int, hang_seconds: float, verbose: bool = True) -> dict:
    results = {}
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp_name:
        tmp = Path(tmp_name)
        needs = {TARGETS[n].needs for n in names}
        ctx = make_context(tmp, needs)
        for k, name in enumerate(names):
            if verbose:
                print(f"fuzzing {name} ({cases} cases)", file=sys.stderr, flush=True)
            results[name] = run_target(name, ctx, cases, seed + k, hang_seconds)
        if ctx.client is not None:
            ctx.client.__exit__(None, None, None)
        if ctx.store is not None:
            ctx.store.close()
    return results


def run_atheris(name: str, cases: int, seed: int) -> int:
    """libFuzzer-driven (coverage-guided) bytes through one target, via atheris; stops at the first crash."""
    import atheris

    if name not in ("txt", "html", "warc", "warc_gz", "jsonl", "csv", "signals"):
        raise SystemExit(f"--engine atheris fuzzes the byte targets only, not {name}")
    # Coverage feedback for libFuzzer: our readers and the WARC library, instrumented as they are imported.
    with atheris.instrument_imports(include=["newstrace", "warcio"]):
        import warcio.archiveiterator  # noqa: F401

        import newstrace.ingest.sources  # noqa: F401
        import newstrace.signals.analyse  # noqa: F401
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-atheris-"))
    ctx = make_context(tmp, {TARGETS[name].needs})
    suffix = {"txt": ".txt", "html": ".html", "warc": ".warc", "warc_gz": ".warc.gz", "jsonl": ".jsonl",
              "csv": ".csv"}.get(name)

    def one_input(data: bytes) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            if suffix:
                check_reader(ctx, suffix, data)
            else:
                check_signals(ctx, data.decode("utf-8", "replace"), 0)

    seeds = tmp / "seeds"
    seeds.mkdir()
    for k, data in enumerate(seed_inputs(name)):
        (seeds / f"seed{k}").write_bytes(data)
    atheris.Setup([sys.argv[0], f"-runs={cases}", f"-seed={seed}", "-max_len=20000", "-len_control=0", str(seeds)],
                  one_input)
    atheris.Fuzz()
    return 0


def seed_inputs(name: str) -> list[bytes]:
    """A few valid inputs for libFuzzer to start its mutations from."""
    page = (b"<html><head><title>Breakwater</title><link rel='canonical' href='https://a.example/1'><meta property="
            b"'article:published_time' content='2025-03-04T08:00:00Z'></head><body><article><h1>Breakwater</h1><p>The "
            b"council said on Tuesday that the breakwater, backed by Veldran, would close.</p></article></body></html>")
    record = {"id": "a1", "url": "https://a.example/1", "outlet": "a.example", "published": "2025-03-04",
              "title": "Breakwater", "text": "The council said the breakwater would close."}
    if name in ("warc", "warc_gz"):
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page
        head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://a.example/1\r\nWARC-Record-ID: "
                f"<urn:uuid:1>\r\nContent-Length: {len(http)}\r\n\r\n").encode()
        plain = head + http + b"\r\n\r\n"
        return [gzip.compress(plain) * 2 if name == "warc_gz" else plain * 2]
    return {
        "txt": [b"Officials said the harbour would close.\n", "Caf\u00e9 \u201cquoted\u201d".encode()],
        "html": [page],
        "jsonl": [(json.dumps(record) + "\n" + json.dumps({**record, "id": "a2", "text": None, "html": page.decode()})
                   + "\n").encode()],
        "csv": [b"id,url,outlet,published,title,text\n1,https://a.example/1,a.example,2025-03-04,T,\"Said, then\"\n"],
        "signals": [b"Sources say the brigade, backed by Veldran, attacked. Officials denied it, witnesses reported."],
    }[name]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--cases", type=int, default=1000, help="generated cases per target")
    ap.add_argument("--targets", nargs="*", choices=list(TARGETS), help="default: all")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--hang-seconds", type=float, default=60.0, help="a case this slow is a hang: stop everything")
    ap.add_argument("--engine", choices=["hypothesis", "atheris"], default="hypothesis")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    names = args.targets or list(TARGETS)
    if args.engine == "atheris":
        if len(names) != 1:
            raise SystemExit("--engine atheris takes one --targets name")
        return run_atheris(names[0], args.cases, args.seed)
    started = time.perf_counter()
    results = run_hypothesis(names, args.cases, args.seed, args.hang_seconds)
    wall = time.perf_counter() - started
    print(f"fuzz: seed {args.seed}, {args.cases} cases a target, hang limit {args.hang_seconds:g} s")
    print()
    print("| target | cases | crashes | wrong results | hangs | slowest case s | mean ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, t in results.items():
        print(f"| {name} | {t.cases} | {t.crashes} | {t.wrong} | 0 | {t.slowest:.2f} | "
              f"{1000 * t.seconds / max(t.cases, 1):.1f} |")
    total = sum(t.cases for t in results.values())
    bad = sum(t.crashes + t.wrong for t in results.values())
    print(f"| **all** | **{total}** | {sum(t.crashes for t in results.values())} | "
          f"{sum(t.wrong for t in results.values())} | 0 | {max(t.slowest for t in results.values()):.2f} | |")
    print(f"\n{total} cases in {wall:.0f} s; {bad} failures")
    for name, t in results.items():
        for line in t.examples[:5]:
            print(f"- {name}: {line}")
    if args.json:
        args.json.write_text(json.dumps({n: {k: v for k, v in vars(t).items()} for n, t in results.items()}, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
