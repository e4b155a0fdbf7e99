"""Benchmark of edit forensics: speed of `diff_pair`, recall of systematic edits, and the injection finder's
false findings on ordinary news and recall on planted injections.

Pairs are built from the PTC training articles (real base texts): each source is cut to about 3 KB, and its copy
gets a phrase injected after every mention of one capitalised word (with random seams), a term replaced
throughout but for one miss, one sentence cut, a lead and a footer added. Alignment runs outside the timing.

usage: python benchmarks/edits.py [--ptc DIR] [--pairs N] [--repeat R] [--seed S] [--cpu]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path

from newstrace.edits import diff_pair, find_injections, find_naming_inconsistencies
from newstrace.reuse.align import align
from newstrace.tokens import tokenize

PTC = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "ptc-train" / "train-articles"
PHRASES = ["backed by the Kesh family", "a group funded by Velmar", "trained in the northern camps"]
SEAMS = [", {p},", " , {p},", " ,{p}", ", {p},", ",{p} ", ", {p},\u00a0"]


def cut_3kb(text: str) -> str:
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        out.append(line)
        if sum(map(len, out)) >= 3000:
            break
    return "".join(out)


def glue(phrase: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:  # words glued together
        return phrase.replace(" ", "", 1)
    if r < 0.25:  # a transposed letter in the last word
        w = phrase[-4:]
        return phrase[:-4] + w[0] + w[2] + w[1] + w[3]
    return phrase


def make_copy(source: str, rng: random.Random) -> tuple[str, dict] | None:
    """The copy and what was done to it, or None when the source has no entity mentioned 3+ times."""
    caps = Counter(m.group() for m in re.finditer(r"(?<=[a-z,] )[A-Z][a-z]{3,}\b", source))
    ents = [w for w, n in caps.most_common() if n >= 3]
    if len(ents) < 2:
        return None
    anchor, term = ents[0], ents[1]
    if re.search(rf"\b({anchor}\W+{term}|{term}\W+{anchor})\b", source):
        return None  # parts of one name ("Garcia Zarate"): the planted edits would overlap
    phrase = rng.choice(PHRASES)
    def inject(m: re.Match) -> str:
        return m.group() + rng.choice(SEAMS).format(p=glue(phrase, rng))

    copy = re.sub(rf"\b{anchor}\b(?![,.;:'’])", inject, source)
    spots = [m.start() for m in re.finditer(rf"\b{term}\b", copy)]
    keep = rng.choice(spots) if spots else -1
    pieces, last = [], 0
    for s in spots:
        if s != keep:
            pieces.append(copy[last:s] + "Varnia")
            last = s + len(term)
    copy = "".join(pieces) + copy[last:]
    sentences = [m for m in re.finditer(r"[^\n.]{40,}\.", copy)]
    if len(sentences) > 4:
        m = sentences[len(sentences) // 2]
        copy = copy[:m.start()] + copy[m.end():]
    copy = "Velmar Daily | World desk\n\n" + copy + "\nFollow Velmar Daily for more.\n"
    # count what survived the cut: the phrase's distinctive word, glued or not, and the new term
    first = phrase.split()[0] if phrase.split()[0] != "a" else "group"
    injected = len(re.findall(first, copy)) - len(re.findall(first, source))
    return copy, {"phrase": phrase, "anchor": anchor, "injected": injected, "term": term,
                  "replaced": len(re.findall(r"\bVarnia", copy)), "missed": len(re.findall(rf"\b{term}\b", copy))}


def difflib_baseline(source: str, copy: str) -> int:
    a, b = tokenize(source).words, tokenize(copy).words
    return len(SequenceMatcher(None, a, b, autojunk=False).get_opcodes())


CLOCK = time.perf_counter  # --cpu: time.process_time, which a machine shared with other jobs inflates less


def median_ms(fn, args, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        fn(*args)
        times.append((CLOCK() - t0) * 1000)
    return statistics.median(times)


def bench_pairs(files: list[Path], n: int, repeat: int, rng: random.Random) -> None:
    rows = []
    for f in files:
        source = cut_3kb(f.read_bytes().decode("utf-8"))
        made = make_copy(source, rng)
        if made is None or len(source) < 2500:
            continue
        copy, truth = made
        rows.append((source, copy, align(source, copy), truth))
        if len(rows) == n:
            break
    ours, base, ratios = [], [], []
    ins_ok = rep_ok = miss_ok = 0
    for source, copy, passages, truth in rows:
        a = median_ms(diff_pair, (source, copy, passages), repeat)
        b = median_ms(difflib_baseline, (source, copy), repeat)
        ours.append(a)
        base.append(b)
        ratios.append(a / b)
        pe = diff_pair(source, copy, passages)
        key = "".join(truth["phrase"].split()).lower()
        ins = [f for f in pe.systematic if f.kind == "insert"
               and key[:8] in "".join(c for c in f.copy_text.lower() if c.isalnum())]
        ins_ok += bool(ins) and ins[0].count == truth["injected"]
        reps = [f for f in pe.systematic if f.kind == "replace" and f.copy_text.strip() == "Varnia"]
        rep_ok += bool(reps) and reps[0].count == truth["replaced"]
        # the kept occurrence may have gone with the cut sentence; lower-case forms of the term count as misses too
        misses = sum(f.count for f in pe.systematic if f.kind == "replace_missed")
        miss_ok += misses >= truth["missed"] and (truth["missed"] > 0) == (misses > 0)
    k = len(rows)
    print(f"pairs: {k} (PTC sources cut to ~3 KB, median {statistics.median(len(r[0]) for r in rows)} chars)")
    print("| measure | value |\n|---|---|")
    print(f"| diff_pair median ms per pair | {statistics.median(ours):.2f} |")
    print(f"| difflib token opcodes median ms per pair (baseline) | {statistics.median(base):.2f} |")
    print(f"| median ratio diff_pair / difflib (same pair, same process) | {statistics.median(ratios):.2f} |")
    print(f"| injection found as one insert group with the exact count | {ins_ok}/{k} |")
    print(f"| replacement found with the exact count | {rep_ok}/{k} |")
    print(f"| the missed replacement (if it survived the cut) located | {miss_ok}/{k} |")


def bench_injections(files: list[Path], rng: random.Random) -> None:
    flagged, naming, times = [], [], []
    planted = found = 0
    for f in files:
        text = f.read_bytes().decode("utf-8")
        t0 = time.perf_counter()
        inj = find_injections(text)
        times.append((time.perf_counter() - t0) * 1000)
        if inj:
            flagged.append(f.name)
        if find_naming_inconsistencies(text):
            naming.append(f.name)
        made = make_copy(text, rng)
        if made is None:
            continue
        copy, truth = made
        if truth["injected"] < 3:
            continue
        planted += 1
        hits = find_injections(copy)
        key = "".join(truth["phrase"].split()).lower()[:8]
        found += any(key in "".join(c for c in h.phrase.lower() if c.isalnum()) and h.count == truth["injected"]
                     for h in hits)
    n = len(files)
    print(f"\nPTC articles: {n}")
    print("| measure | value |\n|---|---|")
    print(f"| articles with any find_injections finding | {len(flagged)} ({100 * len(flagged) / n:.1f}%) |")
    print(f"| articles with any naming inconsistency | {len(naming)} ({100 * len(naming) / n:.1f}%) |")
    print(f"| find_injections median ms per article | {statistics.median(times):.2f} |")
    print(f"| planted injections (3+ mentions, seams) found with every occurrence | {found}/{planted} |")
    if flagged:
        print("flagged:", " ".join(flagged))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ptc", type=Path, default=PTC)
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--cpu", action="store_true", help="time with CPU time (process_time) rather than wall time")
    args = ap.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    files = sorted(args.ptc.glob("*.txt"))
    if not files:
        raise SystemExit(f"no PTC articles under {args.ptc}")
    bench_pairs(files, args.pairs, args.repeat, random.Random(args.seed))
    bench_injections(files, random.Random(args.seed))


if __name__ == "__main__":
    main()
