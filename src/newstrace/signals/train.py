"""Train the propaganda-technique model from the PTC corpus (needs scikit-learn; inference does not).

    python -m newstrace.signals.train --data ../shared/data/ptc-train --out src/newstrace/data --static
    python -m newstrace.signals.train --data ../shared/data/ptc-train --out src/newstrace/data
    python -m newstrace.signals.train --data ../shared/data/ptc-train --out src/newstrace/data --minilm

Training is deterministic: fixed seeds, sorted inputs, liblinear solvers, and a zip writer with fixed timestamps,
so the same data gives the same file byte for byte.

Thresholds (clause threshold, clause trimming level, per-technique token thresholds, extra-label threshold) and
the second clause stage are fitted on out-of-fold probabilities from an inner k-fold split of the training
articles only, so a cross-validation run (benchmarks/ptc_cv.py) never sees its test fold while tuning.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from newstrace.eval.spans import si_score, technique_score
from newstrace.signals import features as F
from newstrace.signals.contextual import sentence_vectors, token_context
from newstrace.signals.techniques import (
    ANY,
    MODEL_FILES,
    RULE,
    DenseLayer,
    LinearLayer,
    TechniqueModel,
    clause_spans,
    context_features,
    mix_token_probs,
    model_spans,
    raw_spans,
    rule_spans,
    save_model,
    token_runs,
)

# Techniques whose gold spans are short and lexical enough for a token tagger.
TOKEN_TECHNIQUES: tuple[str, ...] = (
    "Loaded_Language",
    "Name_Calling,Labeling",
    "Repetition",
    "Exaggeration,Minimisation",
    "Flag-Waving",
)


@dataclass
class PTCArticle:
    id: str
    text: str
    spans: list[tuple[str, int, int]]  # (technique, start, end), end exclusive
    si: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Params:
    c_sent: float = 0.25
    c_tok: float = 0.5
    c_clause: float = 0.25
    inner_folds: int = 2
    seed: int = 13
    rules: bool = True
    context: bool = True
    contextual: bool = False  # the `minilm` model: also fit logistic layers on contextual vectors
    c_emb: float = 0.05
    emb_tok: bool = True  # with `contextual`, also a token layer on contextual vectors
    # ... reading each token's vector in context (`contextual.token_context`). Off: it raised the token layer's
    # average precision (ANY 0.322 -> 0.337) but not the spans' scores (5-fold CV seed 13: SI F1 0.435,
    # technique-aware F1 0.204, against 0.436 and 0.206 without it), at 1.5x the training time
    emb_window: bool = False
    # with `contextual`, also a sentence layer on contextual sentence vectors, averaged with the hashed one. Off:
    # it raised the sentence labels' mean average precision (0.162 -> 0.176) but not the spans' scores (5-fold CV
    # seed 13: SI F1 0.435, technique-aware F1 0.203, against 0.436 and 0.206 without it)
    emb_sent: bool = False
    calibrate: bool = True  # fit span confidences on the inner folds' spans (`fit_calibration`)


# the model over static word vectors: dense layers on 2 * DIM-wide clause vectors and token vectors in context
STATIC_PARAMS = Params(contextual=True, c_emb=0.5, emb_tok=True, emb_window=True)


def load_ptc(data_dir: str | Path) -> list[PTCArticle]:
    """Articles and gold labels of a PTC folder, sorted by id. Texts are read as UTF-8 without normalisation."""
    root = Path(data_dir)
    spans: dict[str, list[tuple[str, int, int]]] = {}
    for line in (root / "train-task-flc-tc.labels").read_text(encoding="utf-8").splitlines():
        if line.strip():
            aid, tech, s, e = line.split("\t")
            spans.setdefault(aid, []).append((tech, int(s), int(e)))
    si: dict[str, list[tuple[int, int]]] = {}
    si_file = root / "train-task-si.labels"
    if si_file.exists():
        for line in si_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                aid, s, e = line.split("\t")
                si.setdefault(aid, []).append((int(s), int(e)))
    out = []
    for path in sorted((root / "train-articles").glob("article*.txt")):
        aid = path.stem[len("article") :]
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
        gold = sorted(spans.get(aid, []), key=lambda x: (x[1], x[2], x[0]))
        out.append(PTCArticle(aid, text, gold, sorted(si.get(aid, [(s, e) for _, s, e in gold]))))
    return out


# --- featurisation ----------------------------------------------------------------------------------------


@dataclass
class Featurised:
    docs: list[F.Doc]
    sent_rows: list[dict[str, float]]
    sent_doc: np.ndarray  # doc index of each sentence row
    sent_y: np.ndarray  # (n_sent, 1 + n_tech) 0/1
    clause_rows: list[dict[str, float]]
    clause_doc: np.ndarray
    clause_y: np.ndarray  # (n_clause, 1)
    tok_rows: list[dict[str, float]]
    tok_doc: np.ndarray
    tok_y: np.ndarray  # (n_tok, n_token_techniques + 1): the last column is ANY (inside some SI gold span)
    tok_train: np.ndarray  # bool: token rows used for fitting (a deterministic subsample of easy negatives)
    # contextual vectors for the `minilm` model (see `add_contextual`), row-aligned with clause_rows / tok_rows
    clause_emb: np.ndarray | None = None
    tok_emb: np.ndarray | None = None
    sent_emb: np.ndarray | None = None  # row-aligned with sent_rows
    tok_ctx: np.ndarray | None = None  # tok_emb in context, built on first use (`_token_inputs`)


def _overlaps(a: int, b: int, spans: Sequence[tuple[str, int, int]]) -> set[str]:
    return {t for t, s, e in spans if min(b, e) > max(a, s)}


def featurise(articles: Sequence[PTCArticle]) -> Featurised:
    docs, sent_rows, sent_doc, sent_y, tok_rows, tok_doc, tok_y = [], [], [], [], [], [], []
    cl_rows, cl_doc, cl_y, tok_train = [], [], [], []
    tech_ix = {t: i for i, t in enumerate(F.TECHNIQUES)}
    tok_ix = {t: i for i, t in enumerate(TOKEN_TECHNIQUES)}
    for di, art in enumerate(articles):
        doc = F.analyse(art.text)
        docs.append(doc)
        hot_sent = []
        for i, s in enumerate(doc.sents):
            sent_rows.append(F.sentence_features(doc, i))
            sent_doc.append(di)
            y = np.zeros(1 + len(F.TECHNIQUES), dtype=np.int8)
            labs = _overlaps(s.start, s.end, art.spans)
            y[0] = any(min(s.end, e) > max(s.start, b) for b, e in art.si) or bool(labs)
            for t in labs:
                y[1 + tech_ix[t]] = 1
            sent_y.append(y)
            hot_sent.append(bool(y[0]))
        for i, c in enumerate(doc.clauses):
            cl_rows.append(F.clause_features(doc, i))
            cl_doc.append(di)
            cl_y.append([int(any(min(c.end, e) > max(c.start, b) for b, e in art.si))])
        sent_of_tok = np.full(len(doc.toks), -1)
        for i, s in enumerate(doc.sents):
            sent_of_tok[s.first_tok : s.end_tok] = i
        for k in range(len(doc.toks)):
            tok_rows.append(F.token_features(doc, k))
            tok_doc.append(di)
            y = np.zeros(len(TOKEN_TECHNIQUES) + 1, dtype=np.int8)
            ts, te = doc.toks.starts[k], doc.toks.ends[k]
            for t in _overlaps(ts, te, art.spans):
                if t in tok_ix:
                    y[tok_ix[t]] = 1
            y[-1] = any(min(te, e) > max(ts, b) for b, e in art.si)
            tok_y.append(y)
            # tokens of propaganda-free sentences are easy negatives: keep one in three to halve fitting time
            tok_train.append(sent_of_tok[k] >= 0 and hot_sent[sent_of_tok[k]] or k % 3 == 0)
    return Featurised(docs, sent_rows, np.array(sent_doc), np.array(sent_y), cl_rows, np.array(cl_doc),
                      np.array(cl_y, dtype=np.int8).reshape(-1, 1), tok_rows, np.array(tok_doc),
                      np.array(tok_y).reshape(-1, len(TOKEN_TECHNIQUES) + 1), np.array(tok_train, dtype=bool))


def add_contextual(fz: Featurised, vectors: Sequence[tuple[np.ndarray, np.ndarray]], sentences: bool = True) -> None:
    """Attach the per-document (clause vectors, token vectors) of `signals.contextual` (or `signals.wordvec`,
    with `sentences` off) to `fz`, in document order."""
    fz.clause_emb = np.vstack([c for c, _ in vectors]).astype(np.float32)
    fz.tok_emb = np.vstack([t for _, t in vectors]).astype(np.float32)
    if sentences:
        fz.sent_emb = np.vstack([sentence_vectors(doc, c) for doc, (c, _) in zip(fz.docs, vectors, strict=True)])
    fz.tok_ctx = None
    if len(fz.clause_emb) != len(fz.clause_rows) or len(fz.tok_emb) != len(fz.tok_rows):
        raise ValueError("contextual vectors are not aligned with the featurised clauses and tokens")


def contextual_vectors(articles: Sequence[PTCArticle], fz: Featurised, cache_dir: str | Path | None = None,
                       progress: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """Encode every article with MiniLM and pool per clause and token. The encoder is the slow part (about a
    second of CPU per 3 KB), so pooled vectors are cached per article in `cache_dir` when one is given."""
    from newstrace.signals.contextual import encode_doc

    out = []
    for n, (art, doc) in enumerate(zip(articles, fz.docs, strict=True)):
        path = Path(cache_dir) / f"{art.id}.npz" if cache_dir else None
        if path is not None and path.exists():
            with np.load(path) as z:
                out.append((z["clause"].astype(np.float32), z["tok"].astype(np.float32)))
            continue
        # vectors are rounded to float16 whether or not they are cached, so that a run with a cache and a run
        # without one train the same model, byte for byte
        clause_x, tok_x = (v.astype(np.float16) for v in encode_doc(doc))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, clause=clause_x, tok=tok_x)
        out.append((clause_x.astype(np.float32), tok_x.astype(np.float32)))
        if progress and n % 25 == 0:
            print(f"encoded {n + 1}/{len(articles)} articles", file=sys.stderr, flush=True)
    return out


def static_vectors(articles: Sequence[PTCArticle], fz: Featurised):
    """The word-vector table (`signals.wordvec`) for the words of `articles`, and each document's (clause, token)
    vectors from it. The table is unsupervised (MiniLM's input embeddings; no labels), so building it from every
    article, test folds included, leaks nothing that a cross-validation would reward."""
    from newstrace.signals.wordvec import build_word_vectors, doc_vectors

    words = {w for doc in fz.docs for w in doc.toks.words if w.isalpha()}
    wv = build_word_vectors(words)
    return wv, [doc_vectors(doc, wv) for doc in fz.docs]


def _fit_dense(x: np.ndarray, y: np.ndarray, c: float, labels: list[str]) -> DenseLayer:
    """One L2 logistic regression per output on dense vectors (lbfgs; deterministic)."""
    from sklearn.linear_model import LogisticRegression

    w = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    b = np.zeros(y.shape[1], dtype=np.float32)
    for j in range(y.shape[1]):
        if y[:, j].min() == y[:, j].max():
            b[j] = 8.0 if y[0, j] else -8.0
            continue
        clf = LogisticRegression(C=c, max_iter=300, tol=1e-4).fit(x, y[:, j])
        w[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return DenseLayer(w, b, labels)


def _token_inputs(fz: Featurised, params: Params) -> np.ndarray:
    """The contextual token layer's inputs: the pooled token vectors, or with `emb_window` each in context."""
    if not params.emb_window:
        return fz.tok_emb
    if fz.tok_ctx is None:
        cuts = np.flatnonzero(np.diff(fz.tok_doc)) + 1
        fz.tok_ctx = np.vstack([token_context(t) for t in np.split(fz.tok_emb, cuts)])
    return fz.tok_ctx


@dataclass
class Contextual:
    """The `minilm` model's dense layers (see `TechniqueModel`)."""

    clause: DenseLayer | None = None
    tok: DenseLayer | None = None
    sent: DenseLayer | None = None


def _fit_contextual(fz: Featurised, docs_mask: np.ndarray, params: Params) -> Contextual:
    if not params.contextual or fz.clause_emb is None:
        return Contextual()
    c_sel = docs_mask[fz.clause_doc]
    out = Contextual(_fit_dense(fz.clause_emb[c_sel], fz.clause_y[c_sel], params.c_emb, ["ANY"]))
    if params.emb_tok:
        t_sel = docs_mask[fz.tok_doc] & fz.tok_train
        out.tok = _fit_dense(_token_inputs(fz, params)[t_sel], fz.tok_y[t_sel], params.c_emb,
                             [*TOKEN_TECHNIQUES, ANY])
    if params.emb_sent:
        s_sel = docs_mask[fz.sent_doc]
        out.sent = _fit_dense(fz.sent_emb[s_sel], fz.sent_y[s_sel], params.c_emb, ["ANY", *F.TECHNIQUES])
    return out


def _csr(rows: Sequence[dict[str, float]], n_features: int):
    from scipy.sparse import csr_matrix

    indptr, indices, data = F.hash_rows(rows, n_features)
    m = csr_matrix((data, indices, indptr), shape=(len(rows), n_features))
    m.sum_duplicates()  # hash collisions inside a row add up, exactly as numpy inference does
    return m


def _fit_layer(x, y: np.ndarray, c: float, labels: list[str], seed: int) -> LinearLayer:
    """One L2 logistic regression per output (liblinear: deterministic for a fixed seed)."""
    from sklearn.linear_model import LogisticRegression

    w = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    b = np.zeros(y.shape[1], dtype=np.float32)
    # liblinear's solver works on dense vectors of every column, so fit on the columns actually used: on the
    # 2^18 hashed buckets this is 10-50x faster and gives the same weights (unused columns get 0 under L2)
    used = np.flatnonzero(np.diff(x.tocsc().indptr))
    xu = x[:, used].tocsr()
    for j in range(y.shape[1]):
        if y[:, j].min() == y[:, j].max():  # a class absent from this training set: constant prior
            b[j] = 8.0 if y[0, j] else -8.0
            continue
        clf = LogisticRegression(C=c, solver="liblinear", random_state=seed, tol=1e-3, max_iter=100)
        clf.fit(xu, y[:, j])
        w[used, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return LinearLayer(w, b, labels)


def _fit_layers(fz: Featurised, docs_mask: np.ndarray,
                params: Params) -> tuple[LinearLayer, LinearLayer, LinearLayer]:
    s_sel = docs_mask[fz.sent_doc]
    c_sel = docs_mask[fz.clause_doc]
    t_sel = docs_mask[fz.tok_doc] & fz.tok_train
    xs = _csr([r for r, keep in zip(fz.sent_rows, s_sel, strict=False) if keep], F.N_SENT_FEATURES)
    xc = _csr([r for r, keep in zip(fz.clause_rows, c_sel, strict=False) if keep], F.N_CLAUSE_FEATURES)
    xt = _csr([r for r, keep in zip(fz.tok_rows, t_sel, strict=False) if keep], F.N_TOK_FEATURES)
    sent = _fit_layer(xs, fz.sent_y[s_sel], params.c_sent, ["ANY", *F.TECHNIQUES], params.seed)
    clause = _fit_layer(xc, fz.clause_y[c_sel], params.c_clause, ["ANY"], params.seed)
    tok = _fit_layer(xt, fz.tok_y[t_sel], params.c_tok, [*TOKEN_TECHNIQUES, ANY], params.seed)
    return sent, clause, tok


def _probs(layer: LinearLayer, rows: Sequence[dict[str, float]]) -> np.ndarray:
    return layer.probs(*F.hash_rows(rows, layer.weights.shape[0]))


# --- threshold tuning ---------------------------------------------------------------------------------------


@dataclass
class OOF:
    """Out-of-fold probabilities, row-aligned with a Featurised."""

    sent: np.ndarray
    clause: np.ndarray
    tok: np.ndarray  # mixed with the contextual token layer's when there is one
    emb_clause: np.ndarray | None = None  # the contextual clause layer's, (n_clause,)


def _slices(fz: Featurised, di: int, off: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    doc = fz.docs[di]
    return (slice(off[0], off[0] + len(doc.sents)), slice(off[1], off[1] + len(doc.clauses)),
            slice(off[2], off[2] + len(doc.toks)))


def _doc_slices(fz: Featurised, idx: Sequence[int]) -> Iterator[tuple[int, F.Doc, slice, slice, slice]]:
    """For each document of `idx` (sorted): its index, analysed text, and its rows among the sentences, clauses
    and tokens of `fz`."""
    offs = zip(np.searchsorted(fz.sent_doc, idx), np.searchsorted(fz.clause_doc, idx),
               np.searchsorted(fz.tok_doc, idx), strict=False)
    for di, off in zip(idx, offs, strict=False):
        yield (di, fz.docs[di], *_slices(fz, di, off))


def predict_all(model: TechniqueModel, fz: Featurised, idx: Sequence[int], oof: OOF) -> dict[int, list]:
    """Labelled spans for documents `idx` from precomputed probabilities."""
    out = {}
    for di, doc, ss, cs, ts in _doc_slices(fz, idx):
        spans = model_spans(model, doc, oof.sent[ss], oof.clause[cs, 0], oof.tok[ts])
        if model.rules:
            spans += rule_spans(doc)
        out[di] = [(sp.technique, sp.start, sp.end) for sp in spans]
    return out


def tune(model: TechniqueModel, fz: Featurised, articles: Sequence[PTCArticle], idx: Sequence[int],
         oof: OOF) -> None:
    """Coordinate search of thresholds on out-of-fold probabilities: SI F1 for the clause threshold with the
    clause-trimming level, and for the token thresholds; then technique-aware F1 for the extra-label threshold,
    and SI F1 + technique-aware F1 for the lexical-label trimming level (`TechniqueModel.lex_refine`).
    Candidate spans per threshold are cached, so each grid point costs one scoring pass."""
    gold_si = {di: articles[di].si for di in idx}
    gold_tc = {di: articles[di].spans for di in idx}
    grid_c = [round(x, 3) for x in np.arange(0.10, 0.71, 0.025)]
    grid_r = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3]
    grid_t = [round(x, 2) for x in np.arange(0.05, 0.91, 0.05)] + [1.01]
    offs = list(zip(np.searchsorted(fz.sent_doc, idx), np.searchsorted(fz.clause_doc, idx),
                    np.searchsorted(fz.tok_doc, idx), strict=False))
    rules = {di: [(sp.start, sp.end) for sp in rule_spans(fz.docs[di])] if model.rules else [] for di in idx}
    c_cache = {}
    t_cache = {}
    for di, off in zip(idx, offs, strict=False):
        _, cs, ts = _slices(fz, di, off)
        doc = fz.docs[di]
        p_any = oof.tok[ts, -1]
        for th in grid_c:
            for r in grid_r:
                c_cache[di, th, r] = [(a, b) for a, b, _, _ in clause_spans(doc, oof.clause[cs, 0], th, p_any, r)]
        for j, lab in enumerate(TOKEN_TECHNIQUES):
            for th in grid_t:
                t_cache[di, lab, th] = [(a, b) for a, b, _ in token_runs(doc, oof.tok[ts, j], th)]

    def si(c_th: float, r: float, t_th: dict[str, float]) -> float:
        pred = {}
        for di in idx:
            sp = c_cache[di, c_th, r] + rules[di]
            for lab in TOKEN_TECHNIQUES:
                sp += t_cache[di, lab, t_th[lab]]
            pred[di] = sp
        return si_score(pred, gold_si).f1

    c_th, r = 0.3, 0.0
    t_th = {lab: 1.01 for lab in TOKEN_TECHNIQUES}
    for _ in range(2):
        c_th, r = max((si(th, rr, t_th), th, rr) for th in grid_c for rr in grid_r)[1:]
        for lab in TOKEN_TECHNIQUES:
            t_th[lab] = max((si(c_th, r, {**t_th, lab: th}), th) for th in grid_t)[1]
    model.sent_threshold = float(c_th)
    model.refine = float(r)
    model.tok_thresholds = {k: float(v) for k, v in t_th.items()}
    best = (-1.0, 1.01)
    for th in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.01]:
        model.tech_threshold = th
        f = technique_score(predict_all(model, fz, idx, oof), gold_tc)[0].f1
        best = max(best, (f, th))
    model.tech_threshold = best[1]
    # trimming lexical labels to their tokens moves technique-aware F1 and SI F1 in opposite directions (a
    # shorter span is more precise but may no longer cover the gold span), so the level maximises their sum
    best = (-1.0, 0.0)
    for lv in LEX_REFINE_GRID:
        model.lex_refine = lv
        pred = predict_all(model, fz, idx, oof)
        f = (si_score({di: [(a, b) for _, a, b in sp] for di, sp in pred.items()}, gold_si).f1
             + technique_score(pred, gold_tc)[0].f1)
        best = max(best, (f, lv))
    model.lex_refine = best[1]


# levels tried for `TechniqueModel.lex_refine` (0: off)
LEX_REFINE_GRID = (0.0, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def calibration_samples(model: TechniqueModel, fz: Featurised, articles: Sequence[PTCArticle], idx: Sequence[int],
                        oof: OOF) -> dict[str, tuple[list[float], list[int]]]:
    """Per span source: (raw scores, 1 if the span overlaps a gold span of its technique else 0) of the spans
    that the tuned `model` emits from out-of-fold probabilities of documents `idx`."""
    out: dict[str, tuple[list[float], list[int]]] = {}
    for di, doc, ss, cs, ts in _doc_slices(fz, idx):
        spans = raw_spans(model, doc, oof.sent[ss], oof.clause[cs, 0], oof.tok[ts])
        if model.rules:
            spans += [(RULE, sp) for sp in rule_spans(doc)]
        gold = articles[di].spans
        for src, sp in spans:
            hit = any(t == sp.technique and min(sp.end, e) > max(sp.start, b) for t, b, e in gold)
            xs, ys = out.setdefault(src, ([], []))
            xs.append(float(sp.score))
            ys.append(int(hit))
    return out


MIN_CALIBRATION_SPANS = 30  # fewer out-of-fold spans from a source: its confidence is its plain hit rate


def fit_calibration(samples: dict[str, tuple[list[float], list[int]]]) -> dict[str, tuple[list[float], list[float]]]:
    """Isotonic regression of hit on raw score per source, as np.interp breakpoints (at most ~40, rounded).
    Isotonic keeps the map increasing, so a higher raw score never gets a lower confidence and
    `--min-confidence` cuts each source at one raw threshold."""
    from sklearn.isotonic import IsotonicRegression

    out = {}
    for src, (x, y) in sorted(samples.items()):
        x_arr, y_arr = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if len(x_arr) < MIN_CALIBRATION_SPANS or x_arr.min() == x_arr.max():
            rate = float(y_arr.mean()) if len(y_arr) else 0.0
            out[src] = ([0.0, 1.0], [round(rate, 4)] * 2)
            continue
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x_arr, y_arr)
        xs, ys = iso.X_thresholds_, iso.y_thresholds_
        if len(xs) > 40:  # keep the file small: sample the step function at 40 raw-score quantiles
            grid = np.unique(np.quantile(x_arr, np.linspace(0, 1, 40)))
            xs, ys = grid, iso.predict(grid)
        out[src] = ([round(float(v), 5) for v in xs], [round(float(v), 4) for v in ys])
    return out


def _fit_context(model: TechniqueModel, fz: Featurised, idx: np.ndarray, oof: OOF) -> None:
    """Fit the second clause stage on out-of-fold first-stage probabilities (what unseen articles look like),
    then replace oof.clause by the second-stage probabilities so thresholds are tuned on what inference emits."""
    from sklearn.linear_model import LogisticRegression

    offs = zip(np.searchsorted(fz.sent_doc, idx), np.searchsorted(fz.clause_doc, idx),
               np.searchsorted(fz.tok_doc, idx), strict=True)
    feats, ys, sl = [], [], []
    for di, off in zip(idx, offs, strict=True):
        ss, cs, ts = _slices(fz, di, off)
        p_emb = oof.emb_clause[cs] if oof.emb_clause is not None else None
        feats.append(context_features(fz.docs[di], oof.clause[cs, 0], oof.sent[ss], oof.tok[ts], p_emb))
        ys.append(fz.clause_y[cs, 0])
        sl.append(cs)
    x = np.vstack(feats)
    clf = LogisticRegression(C=1.0, solver="liblinear", random_state=0).fit(x, np.concatenate(ys))
    model.ctx_w = clf.coef_[0].astype(np.float32)
    model.ctx_b = float(clf.intercept_[0])
    for f, cs in zip(feats, sl, strict=True):
        oof.clause[cs, 0] = 1.0 / (1.0 + np.exp(-(f @ model.ctx_w.astype(np.float64) + model.ctx_b)))


def fit(articles: Sequence[PTCArticle], params: Params | None = None, fz: Featurised | None = None,
        train_idx: Sequence[int] | None = None) -> TechniqueModel:
    """Fit layers on `train_idx` (default: all articles) and tune thresholds by an inner split of them."""
    params = params or Params()
    fz = fz or featurise(articles)
    idx = np.array(sorted(train_idx if train_idx is not None else range(len(articles))))
    rng = np.random.default_rng(params.seed)
    inner = rng.permutation(idx)
    folds = [np.sort(inner[i :: params.inner_folds]) for i in range(params.inner_folds)]
    use_emb = params.contextual and fz.clause_emb is not None
    oof = OOF(np.zeros(fz.sent_y.shape, dtype=np.float32), np.zeros(fz.clause_y.shape, dtype=np.float32),
              np.zeros(fz.tok_y.shape, dtype=np.float32),
              np.zeros(len(fz.clause_rows), dtype=np.float32) if use_emb else None)
    for hold in folds:
        mask = np.zeros(len(articles), dtype=bool)
        mask[idx] = True
        mask[hold] = False
        sent, clause, tok = _fit_layers(fz, mask, params)
        hold_mask = np.zeros(len(articles), dtype=bool)
        hold_mask[hold] = True
        for layer, rows, doc_of, arr in ((sent, fz.sent_rows, fz.sent_doc, oof.sent),
                                         (clause, fz.clause_rows, fz.clause_doc, oof.clause),
                                         (tok, fz.tok_rows, fz.tok_doc, oof.tok)):
            sel = hold_mask[doc_of]
            arr[sel] = _probs(layer, [r for r, k in zip(rows, sel, strict=False) if k])
        if use_emb:
            emb = _fit_contextual(fz, mask, params)
            sel = hold_mask[fz.clause_doc]
            oof.emb_clause[sel] = emb.clause.probs(fz.clause_emb[sel])[:, 0]
            if emb.tok is not None:
                sel = hold_mask[fz.tok_doc]
                oof.tok[sel] = mix_token_probs(oof.tok[sel], emb.tok.probs(_token_inputs(fz, params)[sel]))
            if emb.sent is not None:
                sel = hold_mask[fz.sent_doc]
                oof.sent[sel] = mix_token_probs(oof.sent[sel], emb.sent.probs(fz.sent_emb[sel]))
    mask = np.zeros(len(articles), dtype=bool)
    mask[idx] = True
    sent, clause, tok = _fit_layers(fz, mask, params)
    emb = _fit_contextual(fz, mask, params) if use_emb else Contextual()
    model = TechniqueModel(sent, clause, tok, 0.5, 0.5, {t: 0.5 for t in TOKEN_TECHNIQUES}, params.rules,
                           {"seed": params.seed, "params": vars(params)}, emb_clause=emb.clause, emb_tok=emb.tok,
                           emb_sent=emb.sent)
    if params.context:
        _fit_context(model, fz, idx, oof)
    tune(model, fz, articles, list(idx), oof)
    if params.calibrate:
        model.calibration = fit_calibration(calibration_samples(model, fz, articles, list(idx), oof))
    return model


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the newstrace propaganda-technique model on PTC data.")
    ap.add_argument("--data", required=True, help="PTC folder with train-articles/ and train-task-flc-tc.labels")
    ap.add_argument("--out", required=True,
                    help="output .npz path, or a folder to write the shipped file into (" +
                    ", ".join(f"{k}: {v}" for k, v in MODEL_FILES.items()) + ")")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N articles only (for tests)")
    ap.add_argument("--minilm", action="store_true",
                    help=f"the contextual model ({MODEL_FILES['minilm']}; needs `make minilm`)")
    ap.add_argument("--cache", default=None, help="with --minilm: folder caching the pooled vectors per article")
    ap.add_argument("--static", action="store_true",
                    help="add dense layers over static word vectors (`signals.wordvec`; building the table needs "
                    "`make minilm`, using it does not)")
    args = ap.parse_args(argv)
    articles = load_ptc(args.data)
    if args.limit:
        articles = articles[: args.limit]
    fz = featurise(articles)
    wv = None
    if args.minilm:
        add_contextual(fz, contextual_vectors(articles, fz, cache_dir=args.cache, progress=True))
    elif args.static:
        wv, vectors = static_vectors(articles, fz)
        add_contextual(fz, vectors, sentences=False)
    params = STATIC_PARAMS if args.static and not args.minilm else Params(contextual=args.minilm)
    model = fit(articles, Params(**{**vars(params), "seed": args.seed}), fz=fz)
    model.word_vectors = wv
    model.meta["trained_on"] = f"{len(articles)} PTC articles"
    out = Path(args.out)
    if out.is_dir():
        out = out / MODEL_FILES["minilm" if args.minilm else "default" if args.static else "fast"]
    save_model(model, out)
    print(f"wrote {out}: sent_threshold={model.sent_threshold} tech_threshold={model.tech_threshold} "
          f"tok_thresholds={model.tok_thresholds}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
