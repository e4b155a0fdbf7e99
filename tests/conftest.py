"""Shared fixtures: paths to ../shared (tests that need it skip when it is absent) and small hand-written inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED = SHARED / "seed" / "article.txt"
PTC_ARTICLES = SHARED / "data" / "ptc-train" / "train-articles"
PAN13 = SHARED / "data" / "pan13-train"
DEMO_CORPUS = REPO / "examples" / "corpus"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared absent)")
    return path


@pytest.fixture
def seed_path() -> Path:
    return need(SEED)


@pytest.fixture
def seed_text(seed_path: Path) -> str:
    return seed_path.read_bytes().decode("utf-8")


@pytest.fixture
def ptc_articles() -> Path:
    return need(PTC_ARTICLES)


@pytest.fixture
def pan13() -> Path:
    return need(PAN13)


PAGE = """<!doctype html>
<html><head><title>{title} | Harbour Ledger</title>
<link rel="canonical" href="{url}">
<meta property="article:published_time" content="{published}">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/subscribe">Subscribe</a></nav>
<article><h1>{title}</h1>
{paragraphs}
</article>
<aside>Share this story. Sign up for the Harbour Ledger morning newsletter.</aside>
<footer>Copyright Harbour Ledger. All rights reserved.</footer>
</body></html>
"""


def make_page(title: str, url: str, published: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return PAGE.format(title=title, url=url, published=published, paragraphs=body)


STORY = [
    "The harbour authority of Port Velmar announced on Tuesday that the eastern breakwater will close for repairs "
    "after a winter of storms cracked its concrete caissons in three places.",
    "Engineers told the council that the work would take eleven weeks and cost about four million crowns, most of it "
    "paid from the regional resilience fund approved last spring.",
    "Fishing crews who moor behind the breakwater will be moved to the western basin, where temporary pontoons are "
    "being installed this week, according to the harbour master, Ilse Brandvik.",
    "Residents of the old quarter asked whether the closure would bring heavier lorry traffic through their streets, "
    "and the council promised a route plan before the work begins.",
]


@pytest.fixture
def story() -> list[str]:
    return list(STORY)


def bench_module(name: str):
    """A script of benchmarks/ as a module (the tests share its corpus builders and checks)."""
    import importlib.util
    import sys

    key = f"bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPO / "benchmarks" / f"{name}.py")
        module = sys.modules[key] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.fixture(scope="session")
def hostile_outputs(tmp_path_factory) -> tuple[Path, Path]:
    """(output folder, store) of every command run on the hostile corpus of benchmarks/hostile.py."""
    hostile = bench_module("hostile")
    root = tmp_path_factory.mktemp("hostile")
    hostile.build_corpus(root / "corpus")
    db = hostile.write_outputs(root / "corpus", root / "out")
    return root / "out", db
