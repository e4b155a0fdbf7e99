"""Scale benchmark of the reuse engine: synthetic corpora with planted copies, a MinHashLSH baseline, queries.

    python benchmarks/reuse_scale.py --sizes 10000 100000 --minhash 10000 100000 --query 100000
    python benchmarks/reuse_scale.py --sizes --analyze 10000 100000 300000
    python benchmarks/reuse_scale.py --sizes --shingle-bench 3000

`--analyze N` is the issue's end-to-end target: `newstrace.synth.generate` writes an N-article corpus.jsonl
(cached under `--corpus-dir`), then `newstrace analyze corpus.jsonl --out DIR --stages ingest,reuse` runs as a
subprocess; reported are its wall and CPU seconds (its own and its workers'), its peak RSS (the largest process),
the load average sampled during the run, the stage times the CLI prints, and the synthetic scorer's pair and
family figures against truth.json.

Each size runs in a fresh subprocess so that its peak RSS (its own and its workers') is its own. The corpus is
generated here, seeded: Zipf-distributed pseudo-words in sentences and paragraphs (no long passage repeats by
chance), 500 outlets that each append their own footer (site boilerplate), and 10% of articles that copy an
earlier one by one of: verbatim, 3% word noise, a phrase injected after each mention of a word, 2-3 paragraphs
embedded in a fresh article, paragraphs reordered. A fifth of the copies also keep the source's footer
(inherited boilerplate). 90% of articles are dated, in generation order.

Reported: wall time per stage and in total, peak RSS, recall of the planted (source, copy) edges, the share of
found pairs that lie inside one planted family ("family precision"), and for dated planted edges how often the
source was named right. The baseline is datasketch MinHashLSH (threshold 0.5, 128 permutations) over the same
word 5-gram shingles, compared with our candidate stage (shingles + join), which is what it replaces.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np

from newstrace.model import Article

SEED = 20170626
OPS = ["verbatim", "noise", "inject", "partial", "reorder"]
OP_P = [0.3, 0.2, 0.2, 0.2, 0.1]


def _vocab(rng: np.random.Generator, size: int = 30_000) -> np.ndarray:
    syll = [c + v for c in "bcdfghjklmnprstvwz" for v in ["a", "e", "i", "o", "u", "ai", "ou"]]
    words: set[str] = set()
    while len(words) < size:
        k = int(rng.integers(1, 4))
        words.add("".join(syll[int(i)] for i in rng.integers(0, len(syll), k)))
    arr = np.array(sorted(words), dtype=object)
    return arr[rng.permutation(len(arr))]


class Generator:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.vocab = _vocab(self.rng)
        w = 1.0 / np.arange(1, len(self.vocab) + 1) ** 1.05
        self.cdf = np.cumsum(w / w.sum())

    def words(self, k: int) -> list[str]:
        return self.vocab[np.searchsorted(self.cdf, self.rng.random(k))].tolist()

    def paragraph(self, k: int) -> str:
        return self.body(1, k)[0]

    def body(self, paragraphs: int = 6, words: int = 70) -> list[str]:
        ws = self.words(paragraphs * words)
        cuts = np.cumsum(self.rng.integers(8, 20, size=words))
        out = []
        for p in range(paragraphs):
            para = ws[p * words : (p + 1) * words]
            sents, i = [], 0
            for c in cuts.tolist():
                if i >= words:
                    break
                s = " ".join(para[i:c])
                sents.append(s[:1].upper() + s[1:] + ".")
                i = c
            out.append(" ".join(sents))
        return out


def make_corpus(n: int, seed: int = SEED, copy_rate: float = 0.1, outlets: int = 500):
    """Articles, planted edges `(source_index, copy_index)`, and each article's family index."""
    g = Generator(seed)
    rng = g.rng
    footers = [g.paragraph(40) for _ in range(outlets)]
    t0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
    bodies: list[list[str]] = []
    articles: list[Article] = []
    edges: list[tuple[int, int]] = []
    family = list(range(n))
    for i in range(n):
        outlet = int(rng.integers(0, outlets))
        extra = ""
        if i > 100 and rng.random() < copy_rate:
            j = int(rng.integers(max(0, i - 2000), i))
            src = bodies[j]
            op = OPS[int(rng.choice(len(OPS), p=OP_P))]
            if op == "verbatim":
                body = list(src)
            elif op == "noise":
                body = []
                for para in src:
                    ws = para.split(" ")
                    for k in np.flatnonzero(rng.random(len(ws)) < 0.03).tolist():
                        ws[k] = g.words(1)[0]
                    body.append(" ".join(ws))
            elif op == "inject":
                words = " ".join(src).split(" ")
                anchor = words[int(rng.integers(0, 200))]
                phrase = " ".join(g.words(3))
                body = [p.replace(f" {anchor} ", f" {anchor} {phrase} ") for p in src]
            elif op == "partial":
                k = int(rng.integers(2, 4))
                at = int(rng.integers(0, len(src) - k + 1))
                body = g.body(3)
                body[1:1] = src[at : at + k]
            else:
                body = [src[int(x)] for x in rng.permutation(len(src))]
            edges.append((j, i))
            family[i] = family[j]
            if rng.random() < 0.2:
                extra = "\n\n" + articles[j].text.rsplit("\n\n", 1)[1]
        else:
            body = g.body()
        bodies.append(body)
        text = "\n\n".join(body) + extra + "\n\n" + footers[outlet]
        published = t0 + timedelta(minutes=i) if rng.random() < 0.9 else None
        articles.append(Article(id=f"a{i:07d}", text=text, outlet=f"outlet{outlet}.example", published=published))
    return articles, edges, family


def cpu_s() -> float:
    """CPU seconds of this process and its reaped children: steadier than wall time on a shared machine."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + kids) / 1024


def run_engine(n: int, workers: int) -> dict:
    from newstrace.reuse.engine import find_reuse

    articles, edges, family = make_corpus(n)
    gen_rss = peak_rss_mb()
    marks: list[tuple[str, float, float]] = []
    t0, c0 = time.perf_counter(), cpu_s()
    res = find_reuse(
        articles, workers=workers, progress=lambda s, d, t: marks.append((s, time.perf_counter(), cpu_s()))
    )
    total, total_cpu = time.perf_counter() - t0, cpu_s() - c0
    stages, last, last_c = {}, t0, c0
    for s, t, c in marks:
        stages[s] = [round(t - last, 1), round(c - last_c, 1)]
        last, last_c = t, c
    index = {a.id: i for i, a in enumerate(articles)}
    found = {}
    for p in res.pairs:
        found[frozenset((index[p.source], index[p.copy]))] = p
    hit = [found.get(frozenset(e)) for e in edges]
    recall = sum(h is not None for h in hit) / max(1, len(edges))
    dated = [(e, h) for e, h in zip(edges, hit, strict=True) if h is not None and h.direction == "dated"]
    dir_ok = sum(index[h.source] == e[0] for e, h in dated) / max(1, len(dated))
    textual = [(e, h) for e, h in zip(edges, hit, strict=True) if h is not None and h.direction == "textual"]
    undated = [h for h in hit if h is not None and h.direction != "dated"]
    same_family = sum(family[index[p.source]] == family[index[p.copy]] for p in res.pairs)
    return {
        "n": n,
        "seconds": round(total, 2),
        "cpu_seconds": round(total_cpu, 1),
        "stages_wall_cpu": stages,
        "peak_rss_mb": round(peak_rss_mb()),
        "rss_after_generation_mb": round(gen_rss),
        "pairs": len(res.pairs),
        "families": len(res.families),
        "planted": len(edges),
        "recall": round(recall, 4),
        "family_precision": round(same_family / max(1, len(res.pairs)), 4),
        "dated_direction_ok": round(dir_ok, 4),
        "undated_found": len(undated),
        "textual": len(textual),
        "textual_direction_ok": round(sum(index[h.source] == e[0] for e, h in textual) / max(1, len(textual)), 4),
    }


def run_minhash(n: int, workers: int) -> dict:
    from datasketch import MinHash, MinHashLSH

    from newstrace.reuse.engine import find_candidates
    from newstrace.reuse.shingles import words_of

    articles, edges, _ = make_corpus(n)
    planted = {frozenset(e) for e in edges}

    t0, c0 = time.perf_counter(), cpu_s()
    cands = find_candidates(articles, workers=workers)
    ours_s, ours_c = time.perf_counter() - t0, cpu_s() - c0
    ours = {frozenset(x) for x in zip(cands.a.tolist(), cands.b.tolist(), strict=True)}

    t0, c0 = time.perf_counter(), cpu_s()
    sets = []
    for a in articles:
        w = words_of(a.text)
        sets.append([" ".join(w[k : k + 5]).encode("utf-8") for k in range(len(w) - 4)])
    mhs = MinHash.bulk(sets, num_perm=128)
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    with lsh.insertion_session() as session:
        for i, m in enumerate(mhs):
            session.insert(i, m)
    theirs = set()
    for i, m in enumerate(mhs):
        for j in lsh.query(m):
            if j != i:
                theirs.add(frozenset((i, j)))
    mh_s, mh_c = time.perf_counter() - t0, cpu_s() - c0
    return {
        "n": n,
        "ours_candidates_s": round(ours_s, 2),
        "ours_candidates_cpu_s": round(ours_c, 1),
        "ours_candidates": len(ours),
        "ours_candidate_recall": round(len(ours & planted) / max(1, len(planted)), 4),
        "minhash_s": round(mh_s, 2),
        "minhash_cpu_s": round(mh_c, 1),
        "minhash_candidates": len(theirs),
        "minhash_recall": round(len(theirs & planted) / max(1, len(planted)), 4),
        "speedup_wall": round(mh_s / ours_s, 1),
        "speedup_cpu": round(mh_c / ours_c, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def run_query(n: int, probes: int, path: str) -> dict:
    import duckdb
    import pyarrow as pa

    from newstrace.reuse.query import index_articles, query_text

    articles, _, family = make_corpus(n)
    fam = {a.id: family[i] for i, a in enumerate(articles)}
    con = duckdb.connect(path)
    con.execute(
        "CREATE TABLE articles (id VARCHAR PRIMARY KEY, url VARCHAR, outlet VARCHAR, published TIMESTAMPTZ, "
        "title VARCHAR, text VARCHAR)"
    )
    tab = pa.table(
        {
            "id": [a.id for a in articles],
            "url": pa.nulls(n, pa.string()),
            "outlet": [a.outlet for a in articles],
            "published": pa.array([a.published for a in articles], pa.timestamp("us", tz="UTC")),
            "title": pa.nulls(n, pa.string()),
            "text": [a.text for a in articles],
        }
    )
    con.register("_a", tab)
    con.execute("INSERT INTO articles SELECT * FROM _a")
    con.unregister("_a")
    t0 = time.perf_counter()
    index_articles(con, articles)
    index_s = time.perf_counter() - t0
    # probes: unseen texts that embed two paragraphs of a stored article in fresh text
    g = Generator(SEED + 1)
    rng = np.random.default_rng(SEED + 2)
    lat, ok = [], 0
    for _ in range(probes):
        k = int(rng.integers(0, n))
        paras = articles[k].text.split("\n\n")
        text = "\n\n".join([g.paragraph(60), paras[1], paras[2], g.paragraph(60)])
        t = time.perf_counter()
        hits = query_text(text, con, top=10)
        lat.append(time.perf_counter() - t)
        # a copy of article k holds the same paragraphs, so any member of k's planted family is a right answer
        ok += bool(hits) and fam[hits[0].article_id] == family[k]
    lat_ms = np.array(lat) * 1000
    import os

    return {
        "n": n,
        "load": round(os.getloadavg()[1], 1),
        "index_s": round(index_s, 2),
        "probes": probes,
        "hit_at_1": round(ok / probes, 4),
        "p50_ms": round(float(np.percentile(lat_ms, 50)), 1),
        "p95_ms": round(float(np.percentile(lat_ms, 95)), 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def _reference_rows(texts: list[str], n: int = 5, window: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The shingler before the byte-level scan, kept as the speed baseline: regex words, per-word blake2b hashes
    (cached), then the same n-gram combination and winnowing. Its hash values differ from the current ones."""
    from hashlib import blake2b

    from newstrace.reuse.shingles import ngram_hashes, winnow, words_of

    cache: dict[str, int] = {}
    docs, out = [], []
    for d, text in enumerate(texts):
        hs = []
        for w in words_of(text):
            h = cache.get(w)
            if h is None:
                h = cache[w] = int.from_bytes(blake2b(w.encode("utf-8"), digest_size=8).digest(), "little")
            hs.append(h)
        g = ngram_hashes(np.array(hs, dtype=np.uint64), n)
        kept = np.unique(g[winnow(g, window)].view(np.int64))
        docs.append(np.full(len(kept), d, dtype=np.int32))
        out.append(kept)
    return np.concatenate(docs), np.concatenate(out)


def run_shingle_bench(n: int, corpus_dir: str, reps: int = 3) -> dict:
    """`shingle_rows` against `_reference_rows` on the same synth texts, alternating, in this one process."""
    import os
    from pathlib import Path

    from newstrace.reuse.shingles import shingle_rows
    from newstrace.synth.generate import generate

    folder = Path(corpus_dir) / "synth10000"
    if not (folder / "corpus.jsonl").exists():
        generate(folder, n_articles=10_000, base_dir=Path("/work/shared/data/ptc-train/train-articles"))
    with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(n), f, strict=False)]
    new, old, loads = [], [], []
    for _ in range(reps):
        loads.append(os.getloadavg()[0])
        c = time.process_time()
        _reference_rows(texts)
        old.append(time.process_time() - c)
        c = time.process_time()
        shingle_rows(texts)
        new.append(time.process_time() - c)
    o, w = float(np.median(old)), float(np.median(new))
    return {
        "texts": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "reference_us_per_doc": round(1e6 * o / len(texts)),
        "shingle_rows_us_per_doc": round(1e6 * w / len(texts)),
        "speedup_cpu": round(o / w, 1),
        "load_median": round(float(np.median(loads)), 1),
    }


def run_analyze(n: int, workers: int, corpus_dir: str) -> dict:
    import os
    import shutil
    import tempfile
    import threading
    from pathlib import Path

    from newstrace.eval.synth_score import score
    from newstrace.synth.generate import generate

    folder = Path(corpus_dir) / f"synth{n}"
    corpus = folder / "corpus.jsonl"
    if not corpus.exists():
        generate(folder, n_articles=n, base_dir=Path("/work/shared/data/ptc-train/train-articles"))
    out = Path(tempfile.mkdtemp(prefix="nt_scale_"))
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(2.0):
            loads.append(os.getloadavg()[0])

    cmd = [str(Path(sys.executable).with_name("newstrace")), "analyze", str(corpus), "--out", str(out / "run"),
           "--stages", "ingest,reuse", "--workers", str(workers), "-q"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    done.set()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        shutil.rmtree(out, ignore_errors=True)
        return {"n": n, "error": proc.stderr.strip().splitlines()[-3:]}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sc = score(folder / "truth.json", out / "run")
    shutil.rmtree(out, ignore_errors=True)
    return {
        "n": n,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024),
        "load_median": round(float(np.median(loads)), 1) if loads else None,
        "cli": next((ln for ln in (proc.stdout + proc.stderr).splitlines() if " articles, " in ln), ""),
        "pairs_true": sc["pairs"]["true"],
        "pairs_predicted": sc["pairs"]["predicted"],
        "pair_precision": round(sc["pairs"]["precision"], 4),
        "pair_recall": round(sc["pairs"]["recall"], 4),
        "plagdet": round(sc["passages"]["plagdet"], 4),
        "family_purity": round(sc["families"]["purity"], 4),
    }


def _child(kind: str, n: int, args) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(n), "--workers", str(args.workers)]
    cmd += ["--probes", str(args.probes), "--db", args.db, "--corpus-dir", args.corpus_dir]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return {"n": n, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000])
    ap.add_argument("--minhash", type=int, nargs="*", default=[])
    ap.add_argument("--query", type=int, nargs="*", default=[])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--analyze", type=int, nargs="*", default=[])
    ap.add_argument("--shingle-bench", type=int, default=0, metavar="N", help="time shingling of N synth texts")
    ap.add_argument("--corpus-dir", default="/tmp/newstrace_scale", help="cache of generated --analyze corpora")
    ap.add_argument("--db", default="/tmp/newstrace_reuse_scale.duckdb")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, n = args.child[0], int(args.child[1])
        if kind == "query":
            import os

            if os.path.exists(args.db):
                os.remove(args.db)
        fn = {
            "engine": lambda: run_engine(n, args.workers),
            "minhash": lambda: run_minhash(n, args.workers),
            "query": lambda: run_query(n, args.probes, args.db),
            "analyze": lambda: run_analyze(n, args.workers, args.corpus_dir),
            "shingles": lambda: run_shingle_bench(n, args.corpus_dir),
        }[kind]
        print(json.dumps(fn()))
        return
    if args.shingle_bench:
        print("shingles", json.dumps(_child("shingles", args.shingle_bench, args)), flush=True)
    for n in args.sizes:
        r = _child("engine", n, args)
        print("engine ", json.dumps(r), flush=True)
    for n in args.minhash:
        r = _child("minhash", n, args)
        print("minhash", json.dumps(r), flush=True)
    for n in args.query:
        r = _child("query", n, args)
        print("query  ", json.dumps(r), flush=True)
    for n in args.analyze:
        r = _child("analyze", n, args)
        print("analyze", json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
