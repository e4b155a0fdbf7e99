"""Repeated grouped cross-validation of the propaganda-technique model on PTC train: what to expect on new articles.

    .venv/bin/python benchmarks/ptc_cv.py --data ../shared/data/ptc-train             # 2 repeats x 5 folds
    .venv/bin/python benchmarks/ptc_cv.py --repeats 5 --folds 2                        # Dietterich's 5x2
    .venv/bin/python benchmarks/ptc_cv.py --minilm       # the optional contextual model (needs `make minilm`)

Articles are never split across folds (each fold holds whole articles), and every threshold, the second clause
stage, and the span calibration are fitted inside the training folds only (`train.fit` tunes on an inner split of
them), so the test fold is as unseen as a new user's article. Each repeat reshuffles the articles.

Prints, for each repeat, SI and technique-aware F1 pooled over its test folds; then their mean and the spread
(standard deviation over repeats, and over the single test folds); the per-technique P/R/F1 averaged over repeats;
the calibration of the span confidences on the test folds (expected calibration error and a reliability table);
precision and recall as `--min-confidence` rises; the median inference time per article (CPU and wall) and the
saved size of the last fold's model. `--json FILE` writes all of it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from newstrace.eval.spans import si_score, technique_score
from newstrace.signals import train as T
from newstrace.signals.techniques import detect_techniques, doc_techniques, save_model

CONFIDENCE_LEVELS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _sd(xs: list[float]) -> float:
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def calibration_table(scored: list[tuple[float, int]], bins: int = 10) -> tuple[float, list[tuple]]:
    """(expected calibration error, rows of (bin low, bin high, spans, mean confidence, hit rate)) over equal-
    width confidence bins. A span is a hit when it overlaps a gold span of its technique."""
    rows = []
    ece = 0.0
    n = len(scored)
    conf = np.array([c for c, _ in scored])
    hit = np.array([h for _, h in scored])
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = (conf >= lo) & ((conf < hi) if b < bins - 1 else (conf <= hi))
        if sel.any():
            rows.append((lo, hi, int(sel.sum()), float(conf[sel].mean()), float(hit[sel].mean())))
            ece += sel.sum() / n * abs(conf[sel].mean() - hit[sel].mean())
    return float(ece), rows


def report_saved(articles: list, folder: Path, args: argparse.Namespace) -> None:
    """Pooled scores, per technique, and calibration from the fold predictions saved by `--save-pred`: all
    saved folds of one repeat pooled (which is the whole repeat once every fold is there)."""
    gold_si = {a.id: a.si for a in articles}
    gold_tc = {a.id: a.spans for a in articles}
    fold_si, fold_tc, scored = [], [], []
    pred: dict[str, list] = {}
    files = sorted(folder.glob("r*f*.json"))
    for path in files:
        fold_pred = {k: [tuple(x) for x in v] for k, v in json.loads(path.read_text()).items()}
        ids = list(fold_pred)
        fold_si.append(si_score({a: [(s, e) for _, s, e, _ in fold_pred[a]] for a in ids},
                                {a: gold_si[a] for a in ids}).f1)
        fold_tc.append(technique_score({a: [x[:3] for x in fold_pred[a]] for a in ids},
                                       {a: gold_tc[a] for a in ids})[0].f1)
        for a, spans in fold_pred.items():
            for t, s, e, c in spans:
                scored.append((c, int(any(g == t and min(e, ge) > max(s, gs) for g, gs, ge in gold_tc[a]))))
        pred.update(fold_pred)
        print(f"{path.stem}: {len(ids)} articles, SI F1 {fold_si[-1]:.3f}, TA F1 {fold_tc[-1]:.3f}")
    ids = list(pred)
    si = si_score({k: [(s, e) for _, s, e, _ in v] for k, v in pred.items()}, {a: gold_si[a] for a in ids})
    tc, per = technique_score({k: [x[:3] for x in v] for k, v in pred.items()}, {a: gold_tc[a] for a in ids})
    print(f"\npooled over {len(files)} folds ({len(ids)} articles): SI P {si.precision:.3f} R {si.recall:.3f} "
          f"F1 {si.f1:.3f}; TA P {tc.precision:.3f} R {tc.recall:.3f} F1 {tc.f1:.3f}; fold mean SI "
          f"{np.mean(fold_si):.3f} (sd {_sd(fold_si):.3f}), TA {np.mean(fold_tc):.3f} (sd {_sd(fold_tc):.3f})")
    print(f"\n{'technique':38s} {'P':>6s} {'R':>6s} {'F1':>6s} {'#pred':>6s} {'#gold':>6s}")
    for lab, r in sorted(per.items(), key=lambda kv: -kv[1].f1):
        print(f"  {lab:36s} {r.precision:6.3f} {r.recall:6.3f} {r.f1:6.3f} {r.n_pred:6d} {r.n_gold:6d}")
    ece, rel = calibration_table(scored)
    print(f"\ncalibration of span confidences: {len(scored)} spans, ECE {ece:.3f}")
    for lo, hi, n, c, h in rel:
        print(f"   {lo:.1f}-{hi:.1f}    {n:6d} {c:9.3f} {h:8.3f}")
    heads = ("SI P", "SI R", "SI F1", "TA P", "TA R", "TA F1", "spans")
    print(f"\n{'--min-confidence':>16s} " + " ".join(f"{h:>6s}" for h in heads))
    for level in CONFIDENCE_LEVELS:
        kept = {k: [x for x in v if x[3] >= level] for k, v in pred.items()}
        s = si_score({k: [(a, b) for _, a, b, _ in v] for k, v in kept.items()}, {a: gold_si[a] for a in ids})
        t = technique_score({k: [x[:3] for x in v] for k, v in kept.items()}, {a: gold_tc[a] for a in ids})[0]
        n = sum(len(v) for v in kept.values())
        print(f"{level:16.1f} " + " ".join(f"{v:6.3f}" for v in (s.precision, s.recall, s.f1, t.precision,
                                                                      t.recall, t.f1)) + f" {n:6d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/ptc-train")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="use the first N articles only (quick iteration)")
    ap.add_argument("--no-rules", action="store_true", help="switch the rule layer off")
    ap.add_argument("--no-context", action="store_true", help="switch the second (context) clause stage off")
    ap.add_argument("--c-clause", type=float, default=T.Params.c_clause)
    ap.add_argument("--c-sent", type=float, default=T.Params.c_sent)
    ap.add_argument("--c-tok", type=float, default=T.Params.c_tok)
    ap.add_argument("--minilm", action="store_true", help="the contextual model (MiniLM vectors, `make minilm`)")
    ap.add_argument("--c-emb", type=float, default=T.Params.c_emb)
    ap.add_argument("--no-emb-tok", action="store_true", help="with --minilm, no contextual token layer")
    ap.add_argument("--emb-window", action="store_true",
                    help="with --minilm, the contextual token layer reads each token's vector in context")
    ap.add_argument("--emb-sent", action="store_true", help="with --minilm, add a contextual sentence layer")
    ap.add_argument("--cache", default="/tmp/newstrace-ptc-minilm",
                    help="folder caching the pooled MiniLM vectors per article (encoding takes ~10 min)")
    ap.add_argument("--static", action="store_true", help="add dense layers over static word vectors")
    ap.add_argument("--json", default=None, help="write the results to this file as JSON")
    ap.add_argument("--no-speed", action="store_true", help="skip the inference-time measurement")
    ap.add_argument("--only", default="",
                    help="comma list of REPEAT:FOLD to run (e.g. 0:1,0:3), to split a CV over processes; with "
                    "--save-pred, each fold's predictions are saved and `--from-pred` merges them")
    ap.add_argument("--save-pred", default=None, help="folder to save each test fold's predictions in (JSON)")
    ap.add_argument("--from-pred", default=None,
                    help="report from the predictions saved in this folder (no fitting): the folds found there")
    args = ap.parse_args()

    articles = T.load_ptc(args.data)
    if args.limit:
        articles = articles[: args.limit]
    t0 = time.perf_counter()
    only = {tuple(int(x) for x in item.split(":")) for item in args.only.split(",") if item}
    if args.from_pred:
        report_saved(articles, Path(args.from_pred), args)
        return
    fz = T.featurise(articles)
    vectors = wv = None
    if args.minilm:
        vectors = T.contextual_vectors(articles, fz, cache_dir=args.cache, progress=True)
        T.add_contextual(fz, vectors)
    elif args.static:
        wv, vectors = T.static_vectors(articles, fz)
        T.add_contextual(fz, vectors, sentences=False)
    params = T.Params(seed=args.seed, rules=not args.no_rules, context=not args.no_context, c_clause=args.c_clause,
                      c_sent=args.c_sent, c_tok=args.c_tok, contextual=args.minilm or args.static,
                      c_emb=args.c_emb if args.c_emb != T.Params.c_emb or not args.static else T.STATIC_PARAMS.c_emb,
                      emb_tok=not args.no_emb_tok, emb_window=args.emb_window or args.static,
                      emb_sent=args.emb_sent)
    gold_si = {a.id: a.si for a in articles}
    gold_tc = {a.id: a.spans for a in articles}
    repeat_si, repeat_tc, fold_si, fold_tc = [], [], [], []
    per_tech: dict[str, list] = defaultdict(list)
    scored: list[tuple[float, int]] = []  # (confidence, hit) of every test-fold span, all repeats
    preds: list[dict[str, list]] = []  # per repeat: article id -> [(technique, start, end, confidence)]
    model = None
    for rep in range(args.repeats):
        order = np.random.default_rng(args.seed + rep).permutation(len(articles))
        folds = [np.sort(order[i :: args.folds]) for i in range(args.folds)]
        pred: dict[str, list] = {}
        for k, test in enumerate(folds):
            if only and (rep, k) not in only:
                continue
            train_idx = np.setdiff1d(np.arange(len(articles)), test)
            model = T.fit(articles, params, fz=fz, train_idx=train_idx)
            model.word_vectors = wv
            fold_pred = {}
            for di in test:
                spans = doc_techniques(model, fz.docs[di], vectors[di] if vectors else None)
                aid = articles[di].id
                fold_pred[aid] = [(s.technique, s.start, s.end, s.score) for s in spans]
                for s in spans:
                    hit = any(t == s.technique and min(s.end, e) > max(s.start, b) for t, b, e in gold_tc[aid])
                    scored.append((s.score, int(hit)))
            ids = [articles[di].id for di in test]
            f_si = si_score({a: [(s, e) for _, s, e, _ in fold_pred[a]] for a in ids}, {a: gold_si[a] for a in ids})
            f_tc = technique_score({a: [x[:3] for x in fold_pred[a]] for a in ids}, {a: gold_tc[a] for a in ids})[0]
            fold_si.append(f_si.f1)
            fold_tc.append(f_tc.f1)
            pred.update(fold_pred)
            if args.save_pred:
                Path(args.save_pred).mkdir(parents=True, exist_ok=True)
                Path(args.save_pred, f"r{rep}f{k}.json").write_text(json.dumps(fold_pred))
            print(f"repeat {rep} fold {k}: SI F1 {f_si.f1:.3f}, TA F1 {f_tc.f1:.3f} (sent_th={model.sent_threshold} "
                  f"refine={model.refine} tech_th={model.tech_threshold}) {time.perf_counter() - t0:.0f}s",
                  flush=True)
        si = si_score({k: [(s, e) for _, s, e, _ in v] for k, v in pred.items()}, gold_si)
        tc, per = technique_score({k: [x[:3] for x in v] for k, v in pred.items()}, gold_tc)
        repeat_si.append(si)
        repeat_tc.append(tc)
        for lab, r in per.items():
            per_tech[lab].append(r)
        preds.append(pred)
        print(f"repeat {rep}: SI P {si.precision:.3f} R {si.recall:.3f} F1 {si.f1:.3f}; "
              f"TA P {tc.precision:.3f} R {tc.recall:.3f} F1 {tc.f1:.3f}", flush=True)

    def mean(xs: list[float]) -> float:
        return float(np.mean(xs))

    si_f1 = [r.f1 for r in repeat_si]
    tc_f1 = [r.f1 for r in repeat_tc]
    print(f"\n{len(articles)} articles, {args.repeats} x {args.folds}-fold grouped CV, "
          f"{time.perf_counter() - t0:.0f}s total")
    print(f"SI F1              {mean(si_f1):.3f}  (sd over repeats {_sd(si_f1):.3f}, over folds {_sd(fold_si):.3f}; "
          f"P {mean([r.precision for r in repeat_si]):.3f} R {mean([r.recall for r in repeat_si]):.3f})")
    print(f"technique-aware F1 {mean(tc_f1):.3f}  (sd over repeats {_sd(tc_f1):.3f}, over folds {_sd(fold_tc):.3f}; "
          f"P {mean([r.precision for r in repeat_tc]):.3f} R {mean([r.recall for r in repeat_tc]):.3f})")
    print(f"\n{'technique (mean over repeats)':38s} {'P':>6s} {'R':>6s} {'F1':>6s} {'#pred':>6s} {'#gold':>6s}")
    tech_rows = []
    for lab, rs in sorted(per_tech.items(), key=lambda kv: -mean([r.f1 for r in kv[1]])):
        row = (lab, mean([r.precision for r in rs]), mean([r.recall for r in rs]), mean([r.f1 for r in rs]),
               mean([r.n_pred for r in rs]), rs[0].n_gold)
        tech_rows.append(row)
        print(f"  {lab:36s} {row[1]:6.3f} {row[2]:6.3f} {row[3]:6.3f} {row[4]:6.0f} {row[5]:6d}")

    ece, rel = calibration_table(scored)
    print(f"\ncalibration of span confidences on test folds: {len(scored)} spans, ECE {ece:.3f}")
    print(f"{'confidence':>12s} {'spans':>6s} {'mean conf':>9s} {'hit rate':>8s}")
    for lo, hi, n, c, h in rel:
        print(f"   {lo:.1f}-{hi:.1f}    {n:6d} {c:9.3f} {h:8.3f}")
    heads = ("SI P", "SI R", "SI F1", "TA P", "TA R", "TA F1", "spans")
    print(f"\n{'--min-confidence':>16s} " + " ".join(f"{h:>6s}" for h in heads))
    conf_rows = []
    for level in CONFIDENCE_LEVELS:
        sis, tcs, n = [], [], 0
        for pred in preds:
            kept = {k: [x for x in v if x[3] >= level] for k, v in pred.items()}
            n += sum(len(v) for v in kept.values())
            sis.append(si_score({k: [(s, e) for _, s, e, _ in v] for k, v in kept.items()}, gold_si))
            tcs.append(technique_score({k: [x[:3] for x in v] for k, v in kept.items()}, gold_tc)[0])
        row = (level, mean([r.precision for r in sis]), mean([r.recall for r in sis]), mean([r.f1 for r in sis]),
               mean([r.precision for r in tcs]), mean([r.recall for r in tcs]), mean([r.f1 for r in tcs]),
               n / len(preds))
        conf_rows.append(row)
        print(f"{level:16.1f} " + " ".join(f"{v:6.3f}" for v in row[1:7]) + f" {row[7]:6.0f}")

    assert model is not None
    result = {
        "articles": len(articles), "repeats": args.repeats, "folds": args.folds, "seed": args.seed,
        "model": "minilm" if args.minilm else "static" if args.static else "default",
        "si_f1": si_f1, "ta_f1": tc_f1, "si_f1_mean": mean(si_f1), "ta_f1_mean": mean(tc_f1),
        "si_f1_fold_sd": _sd(fold_si), "ta_f1_fold_sd": _sd(fold_tc),
        "per_technique": [dict(zip(("technique", "p", "r", "f1", "n_pred", "n_gold"), r, strict=True))
                          for r in tech_rows],
        "ece": ece, "reliability": rel, "min_confidence": conf_rows,
    }
    if not args.no_speed:
        wall, cpu = [], []
        sample = articles[:: max(1, len(articles) // 100)]
        for a in sample:
            t1, c1 = time.perf_counter(), time.process_time()
            detect_techniques(a.text, model)
            wall.append((time.perf_counter() - t1) * 1000)
            cpu.append((time.process_time() - c1) * 1000)
        kb = statistics.median(len(a.text.encode("utf-8")) for a in sample) / 1024
        # CPU time is the figure to compare with the budget: wall time on a shared machine mostly measures the
        # neighbours
        print(f"\ninference over {len(sample)} articles (median {kb:.1f} KB): median {statistics.median(cpu):.1f} ms "
              f"CPU, {statistics.median(wall):.1f} ms wall per article")
        result["ms_cpu_median"] = statistics.median(cpu)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        save_model(model, path)
        print(f"saved model (last fold): {path.stat().st_size / 1e6:.2f} MB")
        result["model_mb"] = path.stat().st_size / 1e6
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
