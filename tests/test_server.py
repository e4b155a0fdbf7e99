"""`newstrace serve` as an attacker on the network sees it: where it listens, request limits on a live uvicorn
server, path traversal through every route, and the gate that bounds text checks."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import warnings
from pathlib import Path

import pytest

from test_report import build_store  # noqa: I001

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

from newstrace.web.app import create_app  # noqa: E402
from newstrace.web.limits import SERVER_OPTIONS, CheckGate, CheckRefused  # noqa: E402

SECRETS = (b"root:x:0:0", b"def create_app", b"DUCK", b"[project]", b"{% macro")


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("server") / "srv.duckdb")


@pytest.fixture(scope="module")
def live(store_path: Path):
    """A real uvicorn server, with the options `newstrace serve` uses, on a free loopback port."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(store_path, max_upload=10_000), host="127.0.0.1", port=port,
                            log_level="warning", **SERVER_OPTIONS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(10)


def raw(port: int, request: bytes) -> bytes:
    """Send bytes exactly as given (no client normalises the path) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        out = b""
        while chunk := conn.recv(65536):
            out += chunk
    return out


def get(port: int, target: str, *headers: bytes) -> tuple[int, bytes]:
    answer = raw(port, b"GET " + target.encode() + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(headers)
                 + b"Connection: close\r\n\r\n")
    return int(answer.split(b" ", 2)[1]), answer


TRAVERSALS = [
    "/static/../../../../etc/passwd", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd", "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/%252e%252e/%252e%252e/etc/passwd", "/static/..\\..\\..\\etc\\passwd", "/static//etc/passwd",
    "/static/../web/app.py", "/static/../templates/app.html.j2", "/static/style.css/../../web/app.py",
    "/static/%00", "/static/style.css%00.js", "/..%2f..%2fetc/passwd", "/etc/passwd", "//etc/passwd",
    "/article/..%2f..%2f..%2fetc%2fpasswd", "/article/../../../etc/passwd", "/family/..%2f..%2fpyproject.toml",
    "/pair?source=../../etc/passwd&copy=x", "http://evil.example/static/../../etc/passwd",
]
# ids and searches are looked up in the store, never on disk: these may answer 200 (an empty search)
LOOKUPS = ["/articles?q=../../etc/passwd&outlet=..%2f..", "/articles.json?q=%2fetc%2fpasswd",
           "/pair.json?source=..%2f..%2fetc%2fpasswd&copy=..", "/family/..%2f..%2f..%2fetc%2fpasswd.json"]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_no_path_traversal_in_any_route(live, target):
    status, body = get(live, target)
    assert status in (400, 404), (target, status)
    assert not any(secret in body for secret in SECRETS), target


@pytest.mark.parametrize("target", LOOKUPS)
def test_ids_and_searches_never_reach_the_disk(live, target):
    status, body = get(live, target)
    assert status in (200, 404), (target, status)
    assert not any(secret in body for secret in SECRETS), target


def test_static_files_are_served_and_nothing_beside_them(live):
    status, body = get(live, "/static/style.css")
    assert status == 200 and b"content-security-policy" in body.lower()
    assert get(live, f"/static/..%2f..%2f..%2f{Path(__file__).name}")[0] == 404


def test_request_limits_on_a_live_server(live):
    assert get(live, "/articles?q=" + "a" * 9000)[0] == 414
    assert get(live, "/" + "b" * 9000)[0] == 414
    assert get(live, "/")[0] == 200  # now in the page cache: the limits hold for cached pages too
    assert get(live, "/", b"X-Big: " + b"c" * 40_000 + b"\r\n")[0] == 431
    assert get(live, "/", *(b"X-%d: y\r\n" % i for i in range(4000)))[0] == 431
    body = b"text=" + b"d" * 20_000
    answer = raw(live, b"POST /check.json HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    assert answer.startswith(b"HTTP/1.1 413")
    # the server is still up, and answers the next request as usual
    assert get(live, "/favicon.ico")[0] == 204


def test_serve_listens_on_loopback_unless_told_otherwise(store_path, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from newstrace.cli import app

    calls: list[tuple] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append((a, k)))

    def answers(host_header: str) -> int:  # the app serve built, asked with this Host header
        with TestClient(calls[-1][0][0], base_url="http://127.0.0.1") as client:
            return client.get("/favicon.ico", headers={"host": host_header}).status_code

    result = CliRunner().invoke(app, ["serve", "--db", str(store_path)])
    assert result.exit_code == 0 and calls[-1][1]["host"] == "127.0.0.1"
    assert "warning" not in result.output
    assert calls[-1][1]["limit_concurrency"] == SERVER_OPTIONS["limit_concurrency"]
    assert answers("127.0.0.1:8765") == answers("localhost:8765") == answers("[::1]:8765") == 204
    assert answers("evil.example") == answers("evil.example:8765") == 400  # no DNS rebinding
    for host in ("127.0.0.2", "::1", "localhost"):
        result = CliRunner().invoke(app, ["serve", "--db", str(store_path), "--host", host])
        assert result.exit_code == 0 and "warning" not in result.output, host
        assert answers(f"[{host}]" if ":" in host else host) == 204 and answers("evil.example") == 400
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        result = CliRunner().invoke(app, ["serve", "--db", str(store_path), "--host", host])
        assert result.exit_code == 0 and calls[-1][1]["host"] == host
        assert "warning" in result.output and "no login" in result.output, host
        assert answers("newsroom.example") == 204  # exposed on purpose: any name the network uses


def test_check_gate_bounds_time_and_concurrency():
    async def scenario() -> list[str]:
        gate = CheckGate(at_once=1, seconds=0.3)
        outcomes = []

        async def one(seconds: float) -> None:
            try:
                await gate.run(time.sleep, seconds)
                outcomes.append("done")
            except CheckRefused as exc:
                outcomes.append(exc.detail)

        await one(0.01)
        await asyncio.gather(one(0.6), one(0.01))  # the first overruns; the second waits for a slot in vain
        await asyncio.sleep(0.5)  # the overrunning thread ends and gives its slot back
        await one(0.01)
        return outcomes

    outcomes = asyncio.run(scenario())
    assert outcomes[0] == "done" and outcomes[-1] == "done"
    assert any("took longer than 0.3 s" in o for o in outcomes[1:3])
    assert any("too many checks at once" in o for o in outcomes[1:3])


def test_a_slow_check_is_refused_with_503_and_a_reason(store_path):
    with TestClient(create_app(store_path, checks=CheckGate(at_once=1, seconds=0.0))) as client:
        r = client.post("/check.json", data={"text": "Officials said the brigade moved north."})
        assert r.status_code == 503 and r.headers["retry-after"] == "5" and "took longer" in r.json()["detail"]
        # the first check's thread still holds the one slot: the form says so, and is there to try again
        page = client.post("/check", data={"text": "Officials said the brigade moved north."})
        assert page.status_code == 503 and "<form" in page.text
        assert "took longer" in page.text or "too many checks at once" in page.text
