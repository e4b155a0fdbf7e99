"""Propaganda technique spans: numpy inference over the shipped linear model, plus a small rule layer.

The model (trained by `newstrace.signals.train` on the PTC corpus) has three linear layers over hashed features:

- a clause layer: P(clause holds some propaganda), from the clause's own words and its sentence's. A second
  logistic stage re-scores each clause from its own logit, its neighbours', the article's mean (propaganda
  clusters by article) and the token and sentence layers' outputs over the clause. Each clause that clears a
  tuned threshold becomes a span, optionally trimmed to its tokens that the token layer calls propaganda.
- a sentence layer: P(sentence holds technique k), which names the techniques of each clause span (the likeliest,
  plus any above a tuned threshold). A clause span labelled with a lexical technique is cut to the clause's
  tokens that the token layer gives that technique (`lexical_trim`), at a tuned level.
- a token layer for lexical techniques (Loaded_Language, Name_Calling,Labeling, ...) plus an "ANY" output (the
  token lies in some gold span): runs of tokens whose technique probability clears a per-technique threshold
  become short spans, which also catches lexical propaganda in clauses that the clause layer skipped.

The default model adds the same kind of dense layers over static word vectors stored in its file
(`signals.wordvec`): per clause (stacked into the second clause stage) and per token in a window (averaged with the
token layer), for about a millisecond per article. The `fast` model has the linear layers alone.

The optional `minilm` model adds logistic layers over MiniLM vectors (`signals.contextual`): per clause (stacked
into the second clause stage) and per token (averaged with the token layer). Training can also fit a token layer
over each token's vector in context and a sentence layer (averaged with the sentence layer); neither raised the
CV scores, so the shipped file has neither, but a file that has them is read and used.

Rules, general rather than tuned to any one article, then add:
- a headline (first line) that is a question -> Doubt;
- a phrase of >= 3 words (>= 2 content words), repeated >= 3 times and mostly set off by a comma before it
  (an injected epithet such as ", backed by X,") -> Repetition on each occurrence.

The model file is an .npz of plain arrays (never a pickle); `load_model()` reads the shipped one once.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from newstrace.errors import ModelError
from newstrace.model import TechniqueSpan
from newstrace.signals import features as F
from newstrace.signals.contextual import sentence_vectors, token_context
from newstrace.signals.features import Doc, analyse
from newstrace.signals.wordvec import WordVectors
from newstrace.signals.wordvec import doc_vectors as word_doc_vectors
from newstrace.signals.wordvec import doc_vectors_and_sums as word_doc_vectors_and_sums
from newstrace.tokens import Tokens

MODEL_FILE = "techniques.npz"
# the shipped models by name: `default` is the linear layers plus dense layers over static word vectors; `fast` the
# linear layers alone (for corpus runs where every millisecond counts); `minilm` adds MiniLM contextual vectors
# (about 50x slower; needs `make minilm`)
MODEL_FILES = {"default": MODEL_FILE, "fast": "techniques-fast.npz", "minilm": "techniques-minilm.npz"}
FORMAT_VERSION = 2
ANY = "ANY"  # the token layer's last output: P(token lies in some propaganda span), whatever the technique
N_CTX = 12  # inputs of the second clause stage, see `context_features`
N_CTX_EMB = 16  # the same with the `minilm` model's clause probabilities


@dataclass
class LinearLayer:
    """A multi-output logistic layer over hashed features, stored densely in memory."""

    weights: np.ndarray  # (n_features, n_out) float32
    bias: np.ndarray  # (n_out,) float32
    labels: list[str]

    def probs(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
        n_rows = len(indptr) - 1
        if n_rows == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        contrib = self.weights[indices] * data[:, None]
        # every row has the bias feature, so no row is empty and reduceat is safe
        z = np.add.reduceat(contrib, indptr[:-1], axis=0) + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@dataclass
class DenseLayer:
    """A multi-output logistic layer over dense vectors (the `minilm` model's contextual vectors)."""

    weights: np.ndarray  # (n_in, n_out) float32
    bias: np.ndarray  # (n_out,) float32
    labels: list[str]

    def probs(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))


@dataclass
class TechniqueModel:
    """The trained layers plus the thresholds tuned for them (see the module docstring)."""

    sent: LinearLayer  # labels: "ANY" then techniques; names the techniques of a clause span
    clause: LinearLayer  # labels: ["ANY"]; decides which clauses become spans
    tok: LinearLayer  # labels: lexical techniques, then "ANY" (the token lies in some propaganda span)
    sent_threshold: float  # P(clause holds propaganda) needed to emit a clause span
    tech_threshold: float  # P(technique | sentence) needed to add labels beyond the likeliest one
    tok_thresholds: dict[str, float]
    rules: bool = True
    meta: dict = field(default_factory=dict)
    # second stage over clause logits in context (see `context_features`); zeros with a 1 on the first weight
    # leave the first-stage probability unchanged
    ctx_w: np.ndarray = field(default_factory=lambda: np.eye(1, N_CTX, dtype=np.float32)[0])
    ctx_b: float = 0.0
    # a hot clause is trimmed to its first..last token with P(token ANY) >= refine; 0 keeps whole clauses
    refine: float = 0.0
    # the optional `minilm` model: logistic layers over contextual vectors (`signals.contextual`) of clauses,
    # tokens and sentences. Their clause probability feeds the second clause stage (4 more context inputs); their
    # token probabilities are averaged with the token layer's, and their sentence probabilities with the sentence
    # layer's. A token layer 2 * TOKEN_DIM wide reads each token's vector in context (`token_context`).
    emb_clause: DenseLayer | None = None
    emb_tok: DenseLayer | None = None
    emb_sent: DenseLayer | None = None
    # calibration: per span source (CLAUSE, TOKEN, RULE), an increasing map from the raw score to P(the span
    # overlaps a gold span of its technique), as breakpoints for np.interp, fitted on out-of-fold spans of the
    # training articles (`train.fit_calibration`). Empty: scores stay raw.
    calibration: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    # spans whose (calibrated) score is below this are dropped; set per run, not stored (`with_min_confidence`)
    min_confidence: float = 0.0
    # static word vectors (`signals.wordvec`): when present, the dense layers read vectors derived from this
    # table instead of the MiniLM encoder's, at the cost of a dictionary lookup per token
    word_vectors: WordVectors | None = None
    # a clause span labelled with a lexical technique (one the token layer also tags) is trimmed to the clause's
    # first..last token whose P(that technique) reaches `lex_refine` (kept as it is when no token does); 0 is off.
    # Gold spans of those techniques are a word or two (Loaded_Language: median 18 characters) while a clause
    # span runs to ~65, so the long label mostly costs technique-aware precision
    lex_refine: float = 0.0

    @property
    def contextual(self) -> bool:
        """The model has dense layers (over encoder vectors, or over static word vectors)."""
        return self.emb_clause is not None

    @property
    def needs_encoder(self) -> bool:
        return self.contextual and self.word_vectors is None

    def vectors(self, doc: Doc) -> tuple[np.ndarray, np.ndarray]:
        """The (clause, token) vectors that the dense layers read."""
        if self.word_vectors is not None:
            return word_doc_vectors(doc, self.word_vectors)
        from newstrace.signals.contextual import encode_doc

        return encode_doc(doc)


# --- persistence -------------------------------------------------------------------------------------------

# Weights below this magnitude are dropped when saving: on PTC they change no prediction and they are most of
# the file (hashed buckets hit once or twice in training get tiny L2-shrunk weights).
PRUNE = 0.01


def _pack(w: np.ndarray, prune: float) -> tuple[np.ndarray, np.ndarray]:
    """Sparse (delta-coded flat indices int32, values float16) of the weights whose magnitude reaches `prune`.

    Sorted flat indices are stored as gaps, which deflate far better than the raw indices."""
    flat = w.ravel()
    idx = np.flatnonzero((np.abs(flat) >= prune) & (flat != 0))
    gaps = np.diff(idx, prepend=0).astype(np.int32)
    return gaps, flat[idx].astype(np.float16)


def _unpack(gaps: np.ndarray, vals: np.ndarray, n_features: int, n_out: int) -> np.ndarray:
    w = np.zeros(n_features * n_out, dtype=np.float32)
    w[np.cumsum(gaps.astype(np.int64))] = vals.astype(np.float32)
    return w.reshape(n_features, n_out)


def save_model(model: TechniqueModel, path: str | Path, prune: float = PRUNE) -> None:
    """Write the model as a compressed .npz whose bytes depend only on the model (fixed zip timestamps)."""
    meta = {
        "format": FORMAT_VERSION,
        "sent_labels": model.sent.labels,
        "tok_labels": model.tok.labels,
        "clause_labels": model.clause.labels,
        "n_sent_features": int(model.sent.weights.shape[0]),
        "n_tok_features": int(model.tok.weights.shape[0]),
        "n_clause_features": int(model.clause.weights.shape[0]),
        "sent_threshold": model.sent_threshold,
        "tech_threshold": model.tech_threshold,
        "tok_thresholds": model.tok_thresholds,
        "rules": model.rules,
        "ctx_w": [float(x) for x in model.ctx_w],
        "ctx_b": float(model.ctx_b),
        "refine": float(model.refine),
        "lex_refine": float(model.lex_refine),
        "calibration": {k: [list(map(float, xs)), list(map(float, ys))] for k, (xs, ys) in model.calibration.items()},
        "prune": prune,
        **{k: v for k, v in model.meta.items() if k not in {"format"}},
    }
    arrays = {"meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)}
    for name, layer in (("clause", model.clause), ("sent", model.sent), ("tok", model.tok)):
        gaps, vals = _pack(layer.weights, prune)
        arrays[name + "_gap"] = gaps
        arrays[name + "_val"] = vals
        arrays[name + "_b"] = layer.bias.astype(np.float32)
    for name, dense in (("emb_clause", model.emb_clause), ("emb_tok", model.emb_tok), ("emb_sent", model.emb_sent)):
        if dense is not None:
            meta[name + "_labels"] = dense.labels
            arrays[name + "_w"] = dense.weights.astype(np.float32)
            arrays[name + "_b"] = dense.bias.astype(np.float32)
    if model.word_vectors is not None:
        arrays["wv_words"] = np.frombuffer("\n".join(model.word_vectors.words).encode("utf-8"), dtype=np.uint8)
        arrays["wv_q"] = model.word_vectors.quantised
        arrays["wv_scale"] = model.word_vectors.scale.astype(np.float32)
    arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in sorted(arrays.items()):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def _read_model(fh) -> TechniqueModel:
    with np.load(fh, allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ModelError(f"unsupported technique model format {meta.get('format')!r}; `make train` rebuilds it")
        layers = {}
        for name in ("clause", "sent", "tok"):
            labels = list(meta[name + "_labels"])
            w = _unpack(z[name + "_gap"], z[name + "_val"], meta[f"n_{name}_features"], len(labels))
            layers[name] = LinearLayer(w, np.array(z[name + "_b"], dtype=np.float32), labels)
        dense = {name: DenseLayer(np.array(z[name + "_w"], dtype=np.float32),
                                  np.array(z[name + "_b"], dtype=np.float32), list(meta[name + "_labels"]))
                 for name in ("emb_clause", "emb_tok", "emb_sent") if name + "_w" in z.files}
        wv = None
        if "wv_q" in z.files:
            wv = WordVectors(bytes(z["wv_words"]).decode("utf-8").split("\n"), np.array(z["wv_q"], dtype=np.int8),
                             np.array(z["wv_scale"], dtype=np.float32))
    return TechniqueModel(layers["sent"], layers["clause"], layers["tok"], float(meta["sent_threshold"]),
                          float(meta["tech_threshold"]),
                          {k: float(v) for k, v in meta["tok_thresholds"].items()}, bool(meta["rules"]),
                          {k: v for k, v in meta.items() if k in {"trained_on", "seed", "params"}},
                          np.array(meta["ctx_w"], dtype=np.float32), float(meta["ctx_b"]), float(meta["refine"]),
                          dense.get("emb_clause"), dense.get("emb_tok"), dense.get("emb_sent"),
                          {k: (list(xs), list(ys)) for k, (xs, ys) in meta.get("calibration", {}).items()},
                          word_vectors=wv, lex_refine=float(meta.get("lex_refine", 0.0)))


SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "data" / MODEL_FILE


@lru_cache(maxsize=4)
def _load_cached(path: str) -> TechniqueModel:
    if not Path(path).is_file():
        raise ModelError(f"technique model {path} is missing; `make train` rebuilds the shipped one")
    with open(path, "rb") as fh:
        return _read_model(io.BytesIO(fh.read()))


def load_model(path: str | Path | None = None, kind: str = "default") -> TechniqueModel:
    """Load a technique model: the file at `path`, or else the shipped model named `kind` (see MODEL_FILES).
    Each file is read once per process, then cached."""
    if path is None:
        if kind not in MODEL_FILES:
            raise ModelError(f"unknown technique model '{kind}': choose one of {', '.join(MODEL_FILES)}")
        path = SHIPPED_MODEL.parent / MODEL_FILES[kind]
    return _load_cached(str(Path(path).resolve()))


def with_min_confidence(model: TechniqueModel, min_confidence: float) -> TechniqueModel:
    """A copy of `model` that drops spans whose confidence (calibrated score) is below `min_confidence`."""
    if not 0.0 <= min_confidence <= 1.0:
        raise ModelError(f"--min-confidence must lie in 0..1, not {min_confidence}")
    return model if min_confidence == model.min_confidence else replace(model, min_confidence=float(min_confidence))


def ready_model(kind: str = "default", min_confidence: float = 0.0) -> TechniqueModel:
    """`load_model(kind=kind)` (with `min_confidence`), and for a contextual model the encoder too, so that a run
    fails at its start, not after hours of earlier stages, when something is missing."""
    model = with_min_confidence(load_model(kind=kind), min_confidence)
    if model.needs_encoder:
        from newstrace.signals.encoder import load_encoder

        load_encoder()
    return model


# --- inference ---------------------------------------------------------------------------------------------


def sentence_probs(model: TechniqueModel, doc: Doc) -> np.ndarray:
    rows = (F.sentence_features(doc, i) for i in range(len(doc.sents)))
    return model.sent.probs(*F.hash_rows(rows, model.sent.weights.shape[0]))


def token_probs(model: TechniqueModel, doc: Doc) -> np.ndarray:
    return model.tok.probs(*F.token_feature_columns(doc, model.tok.weights.shape[0]))


def clause_probs(model: TechniqueModel, doc: Doc) -> np.ndarray:
    rows = (F.clause_features(doc, i) for i in range(len(doc.clauses)))
    return model.clause.probs(*F.hash_rows(rows, model.clause.weights.shape[0]))[:, 0]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _segment_max(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """max(x[a[i]:b[i]]) for each i (every segment non-empty, segments in any order and possibly overlapping)."""
    # reduceat over the interleaved bounds [a0, b0, a1, b1, ...]: the even results are the segments; x gets one
    # more element so that a bound may equal len(x)
    bounds = np.empty(2 * len(a), dtype=np.intp)
    bounds[0::2], bounds[1::2] = a, b
    return np.maximum.reduceat(np.append(x, x[:1]), bounds)[0::2]


def _segment_mean(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`x[a[i]:b[i]].mean()` for each i, bit for bit. Not `np.add.reduceat`: it sums in order, while `mean` sums
    pairwise, and the last bits differ; so one `np.add.reduce` per segment, without `mean`'s Python overhead."""
    x = np.ascontiguousarray(x)
    add = np.add.reduce
    sums = np.array([add(x[i:j]) for i, j in zip(a.tolist(), b.tolist(), strict=True)], dtype=x.dtype)
    # as `mean` does: the sum (in x's dtype) over the count (an intp), cast back to x's dtype
    return (sums / (b - a).astype(np.intp)).astype(x.dtype)


def context_features(doc: Doc, p_clause: np.ndarray, p_sent: np.ndarray, p_tok: np.ndarray,
                     p_emb_clause: np.ndarray | None = None) -> np.ndarray:
    """Per clause, N_CTX numbers for the second clause stage (logits unless said otherwise):

    0 own clause logit, 1 document mean, 2 best other clause of the sentence, 3 previous clause, 4 next clause,
    5 best lexical-technique token in the clause, 6 best and 7 mean token-ANY in the clause, 8 sentence-ANY,
    9 best sentence technique, 10 document mean token-ANY, 11 log(1 + clause tokens);
    with the `minilm` model's clause probabilities, N_CTX_EMB - N_CTX more: 12 their logit, 13 their document
    mean, 14 the previous and 15 the next clause's.

    Propaganda clusters: some articles are dense with it, and a clause next to a hot one is likelier hot. The
    token and sentence layers see the same text through other features and labels, so stacking them adds a
    little signal (about +0.005 SI F1 in CV over the five clause-only inputs)."""
    n = len(doc.clauses)
    if n == 0:  # no clause (an empty or punctuation-only text): no rows, but as many columns as the model reads
        return np.zeros((0, N_CTX if p_emb_clause is None else N_CTX_EMB), dtype=np.float64)
    out = np.zeros((n, N_CTX), dtype=np.float64)
    z = _logit(p_clause)
    out[:, 0] = z
    out[:, 1] = z.mean()
    # plain floats and Python loops for the few clauses of each sentence: numpy scalars cost more than they save
    zl = z.tolist()
    by_sent: dict[int, list[int]] = {}
    for i, c in enumerate(doc.clauses):
        by_sent.setdefault(c.sent, []).append(i)
    best_other = []
    for i, c in enumerate(doc.clauses):
        others = [zl[j] for j in by_sent[c.sent] if j != i]
        best_other.append(max(others) if others else zl[i])
    out[:, 2] = best_other
    out[1:, 3] = z[:-1]
    out[0, 3] = out[0, 1]
    out[:-1, 4] = z[1:]
    out[-1, 4] = out[0, 1]
    n_tok = len(p_tok)
    if n_tok:
        p_lex = p_tok[:, :-1].max(axis=1) if p_tok.shape[1] > 1 else np.zeros(n_tok)
        p_any = p_tok[:, -1]
        out[:, 10] = _logit(p_any.mean())
        # each clause's tokens [a, b); a clause of punctuation only has no token: it reads its neighbour's
        a = np.minimum([c.first_tok for c in doc.clauses], n_tok - 1)
        b = np.maximum([c.end_tok for c in doc.clauses], a + 1)
        out[:, 5] = _logit(_segment_max(p_lex, a, b))
        out[:, 6] = _logit(_segment_max(p_any, a, b))
        out[:, 7] = _logit(_segment_mean(p_any, a, b))
    if len(p_sent):
        sent_ix = [c.sent for c in doc.clauses]
        out[:, 8] = _logit(p_sent[sent_ix, 0])
        out[:, 9] = _logit(p_sent[sent_ix, 1:].max(axis=1))
    out[:, 11] = np.log1p(np.array([c.end_tok - c.first_tok for c in doc.clauses]))
    if p_emb_clause is None:
        return out
    ze = _logit(p_emb_clause)
    extra = np.empty((n, N_CTX_EMB - N_CTX), dtype=np.float64)
    extra[:, 0] = ze
    extra[:, 1] = ze.mean()
    extra[1:, 2] = ze[:-1]
    extra[0, 2] = ze.mean()
    extra[:-1, 3] = ze[1:]
    extra[-1, 3] = ze.mean()
    return np.hstack([out, extra])


def context_probs(model: TechniqueModel, doc: Doc, p_clause: np.ndarray, p_sent: np.ndarray,
                  p_tok: np.ndarray, p_emb_clause: np.ndarray | None = None) -> np.ndarray:
    x = context_features(doc, p_clause, p_sent, p_tok, p_emb_clause)
    zz = x @ model.ctx_w.astype(np.float64) + model.ctx_b
    return 1.0 / (1.0 + np.exp(-zz))


def mix_token_probs(p_tok: np.ndarray, p_emb_tok: np.ndarray | None) -> np.ndarray:
    """The token (or sentence) layer's probabilities averaged with the contextual layer's (same outputs, same
    order)."""
    return p_tok if p_emb_tok is None or len(p_tok) == 0 else (p_tok + p_emb_tok) / 2


def emb_token_probs(layer: DenseLayer, tok_x: np.ndarray, sums: np.ndarray | None = None) -> np.ndarray:
    """The contextual token layer's probabilities from pooled token vectors; a layer twice as wide as the vectors
    reads them in context (`contextual.token_context`, which reads `sums` when given)."""
    if layer.weights.shape[0] == 2 * tok_x.shape[1]:
        tok_x = token_context(tok_x, sums=sums)
    return layer.probs(tok_x)


def hot_clauses(doc: Doc, p_clause: np.ndarray, threshold: float, p_any: np.ndarray | None = None,
                refine: float = 0.0) -> list[tuple[int, int, int, float]]:
    """(clause index, start, end, p) for each clause whose probability clears `threshold`, trimmed as in
    `clause_spans`."""
    out: list[tuple[int, int, int, float]] = []
    st, en = doc.toks.starts, doc.toks.ends
    for i, c in enumerate(doc.clauses):
        p = float(p_clause[i])
        if p < threshold:
            continue
        s0, e0 = c.start, c.end
        if refine > 0 and p_any is not None:
            hot = [k for k in range(c.first_tok, c.end_tok) if p_any[k] >= refine]
            if hot:
                s0, e0 = st[hot[0]], en[hot[-1]]
        out.append((i, s0, e0, p))
    return out


def clause_spans(doc: Doc, p_clause: np.ndarray, threshold: float, p_any: np.ndarray | None = None,
                 refine: float = 0.0) -> list[tuple[int, int, int, float]]:
    """(start, end, sentence, p) for each clause whose probability clears `threshold`.

    Each hot clause is its own span: SI precision averages over predicted spans, and merging neighbouring hot
    clauses into one long span cost about 0.007 F1 in CV. With `refine` > 0 a clause is trimmed to its first..
    last token whose P(ANY) reaches `refine` (kept whole when no token does): gold spans are short phrases
    (median 25 characters) while clauses run to ~90."""
    return [(s0, e0, doc.clauses[i].sent, p) for i, s0, e0, p in hot_clauses(doc, p_clause, threshold, p_any, refine)]


def lexical_trim(doc: Doc, clause: int, p: np.ndarray, threshold: float) -> tuple[int, int] | None:
    """(start, end) of clause `clause` cut to its first..last token whose probability `p` (one technique's token
    probabilities) reaches `threshold`; None when no token does."""
    c = doc.clauses[clause]
    hot = np.flatnonzero(p[c.first_tok : c.end_tok] >= threshold)
    if len(hot) == 0:
        return None
    return doc.toks.starts[c.first_tok + hot[0]], doc.toks.ends[c.first_tok + hot[-1]]


def token_runs(doc: Doc, p: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """(start, end, max p) for runs of consecutive tokens whose probability clears `threshold`, leaving out runs
    made of function words only ("the", "of them"): those are never a technique on their own."""
    out: list[tuple[int, int, float]] = []
    hot = np.flatnonzero(p >= threshold)
    words = doc.toks.words
    k = 0
    while k < len(hot):
        m = k
        while m + 1 < len(hot) and hot[m + 1] == hot[m] + 1:
            m += 1
        a, b = int(hot[k]), int(hot[m])
        if not all(w in _FUNCTION for w in words[a : b + 1]):
            out.append((doc.toks.starts[a], doc.toks.ends[b], float(p[a : b + 1].max())))
        k = m + 1
    return out


# where a span comes from: each source has its own calibration map
CLAUSE, TOKEN, RULE = "clause", "token", "rule"


def calibrate(model: TechniqueModel, source: str, raw: float) -> float:
    """The confidence of a span: its raw score mapped through the source's calibration (identity without one)."""
    cal = model.calibration.get(source)
    return float(raw) if cal is None else float(np.interp(raw, cal[0], cal[1]))


def raw_spans(model: TechniqueModel, doc: Doc, p_sent: np.ndarray, p_clause: np.ndarray,
              p_tok: np.ndarray) -> list[tuple[str, TechniqueSpan]]:
    """(source, span with its raw score) from the linear layers, given their probabilities (split out so training
    can tune and calibrate on it). `p_clause` is the second-stage probability; `p_tok`'s last column is the
    token-ANY output. A clause span's raw score for a technique is P(clause hot) scaled by that technique's
    sentence probability relative to the likeliest one, so the extra labels of a span rank below its first."""
    out: list[tuple[str, TechniqueSpan]] = []
    techs = model.sent.labels[1:]
    p_any = p_tok[:, -1] if len(p_tok) else None
    tok_col = {lab: j for j, lab in enumerate(model.tok.labels) if lab != ANY}
    for ci, start, end, p_hot in hot_clauses(doc, p_clause, model.sent_threshold, p_any, model.refine):
        pk = p_sent[doc.clauses[ci].sent, 1:]
        top = int(np.argmax(pk))
        chosen = {top} | {int(k) for k in np.flatnonzero(pk >= model.tech_threshold)}
        for k in sorted(chosen):
            raw = p_hot * float(pk[k] / max(pk[top], 1e-9))
            a, b = start, end
            if model.lex_refine > 0 and techs[k] in tok_col:
                a, b = lexical_trim(doc, ci, p_tok[:, tok_col[techs[k]]], model.lex_refine) or (a, b)
            out.append((CLAUSE, TechniqueSpan(techs[k], a, b, raw)))
    for j, lab in enumerate(model.tok.labels):
        if lab == ANY:
            continue
        for start, end, p in token_runs(doc, p_tok[:, j], model.tok_thresholds.get(lab, 1.01)):
            out.append((TOKEN, TechniqueSpan(lab, start, end, p)))
    return out


def model_spans(model: TechniqueModel, doc: Doc, p_sent: np.ndarray, p_clause: np.ndarray,
                p_tok: np.ndarray) -> list[TechniqueSpan]:
    """`raw_spans` with calibrated scores."""
    return calibrated(model, raw_spans(model, doc, p_sent, p_clause, p_tok))


def calibrated(model: TechniqueModel, spans: list[tuple[str, TechniqueSpan]]) -> list[TechniqueSpan]:
    """The spans with their scores mapped by `calibrate` and rounded to 4 places: one `np.interp` per source over
    all its spans (the same numbers as one per span, at a fraction of the calls)."""
    scores = [sp.score for _, sp in spans]
    for source, (xp, fp) in model.calibration.items():
        mine = [i for i, (src, _) in enumerate(spans) if src == source]
        if mine:
            for i, score in zip(mine, np.interp([scores[i] for i in mine], xp, fp).tolist(), strict=True):
                scores[i] = score
    return [TechniqueSpan(sp.technique, sp.start, sp.end, round(float(score), 4))
            for (_, sp), score in zip(spans, scores, strict=True)]


def rule_spans(doc: Doc, model: TechniqueModel | None = None) -> list[TechniqueSpan]:
    """General rules: question headline -> Doubt; a comma-set phrase repeated >= 3 times -> Repetition. Scores
    are raw unless a calibrated `model` is given."""
    out: list[TechniqueSpan] = []
    text = doc.text
    if doc.sents:
        first = doc.sents[0]
        line_end = text.find("\n", first.start)
        line = text[first.start : line_end if line_end >= 0 else len(text)].rstrip()
        if _is_question_headline(line, doc.toks.words[first.first_tok : first.first_tok + 1]):
            out.append(TechniqueSpan("Doubt", first.start, first.start + len(line), 0.6))
    out.extend(_repeated_phrases(doc))
    if model is not None:
        out = calibrated(model, [(RULE, sp) for sp in out])
    return out


_QUESTION_OPENERS = frozenset(
    "is are was were do does did can could will would should has have had why".split()
)


def _is_question_headline(line: str, first_word: list[str]) -> bool:
    """A headline-sized first line that asks: ends in '?', or opens with an auxiliary or "why" (titles often drop
    the '?'; "How ..."/"What ..." titles are usually not questions, so they need the '?'). Long lines are body
    text, not headlines."""
    if not line or len(line) > 160 or line.endswith("."):
        return False
    stripped = line.rstrip("\"'”’) ")
    return stripped.endswith("?") or (bool(first_word) and first_word[0] in _QUESTION_OPENERS)


def _repeated_phrases(doc: Doc, min_words: int = 3, max_words: int = 8, min_count: int = 3) -> list[TechniqueSpan]:
    """Repeated parentheticals: maximal word n-grams occurring >= min_count times, most of them set off by a
    comma just before (", backed by X," attached to every mention). Plain repeated n-grams are mostly names and
    set phrases (on PTC they scored 3% precision), while a recurring comma-delimited epithet is the injected-
    phrase pattern that newstrace exists to catch."""
    words = doc.toks.words
    text = doc.text
    n = len(words)
    starts, ends = doc.toks.starts, doc.toks.ends
    # a phrase never runs across punctuation: only whitespace may separate its words
    plain_gap = [not text[e:s].strip() for e, s in zip(ends, starts[1:], strict=False)]
    out: list[TechniqueSpan] = []
    covered = [False] * n
    # only a phrase after a comma at 2+ places can pass (half of 3+), so those places are found first, and the
    # phrases' other places are looked for only at words that start one of them
    after_comma_at = [i for i, s in enumerate(starts) if text[max(0, s - 4) : s].rstrip().endswith(",")]
    for size in range(max_words, min_words - 1, -1):
        seen: dict[tuple[str, ...], int] = {}
        for i in after_comma_at:
            if i <= n - size and all(plain_gap[i : i + size - 1]):
                gram = tuple(words[i : i + size])
                seen[gram] = seen.get(gram, 0) + 1
        wanted = {g for g, c in seen.items() if c >= 2}
        if not wanted:
            continue
        heads = {g[0] for g in wanted}
        pos: dict[tuple[str, ...], list[int]] = {}
        for i in range(n - size + 1):
            if words[i] in heads and all(plain_gap[i : i + size - 1]):
                gram = tuple(words[i : i + size])
                if gram in wanted:
                    pos.setdefault(gram, []).append(i)
        for gram, idxs in pos.items():
            if len(idxs) < min_count or sum(w not in _FUNCTION for w in gram) < 2:
                continue
            after_comma = sum(1 for i in idxs if text[max(0, starts[i] - 4) : starts[i]].rstrip().endswith(","))
            if 2 * after_comma < len(idxs):
                continue
            score = min(0.95, 0.5 + 0.05 * len(idxs))
            for i in idxs:
                if not any(covered[i : i + size]):  # occurrences inside a longer repeated phrase are done
                    out.append(TechniqueSpan("Repetition", starts[i], ends[i + size - 1], score))
                    covered[i : i + size] = [True] * size
    return out


_FUNCTION = frozenset(
    "a an the of in on at to for from by with and or but is are was were be been it its this that these those "
    "he she they we you i his her their our your as not no so if than then there here which who whom what when "
    "where how said says has have had do does did will would can could should may might must".split()
)


def detect_techniques(text: str, model: TechniqueModel | None = None,
                      toks: Tokens | None = None) -> list[TechniqueSpan]:
    """Propaganda technique spans in `text` (raw offsets), sorted by start; each score is in 0..1. `toks`:
    `tokenize(text)`, when the caller has it already."""
    model = model if model is not None else load_model()
    return doc_techniques(model, analyse(text, toks))


def doc_techniques(model: TechniqueModel, doc: Doc,
                   vectors: tuple[np.ndarray, np.ndarray] | None = None) -> list[TechniqueSpan]:
    """`detect_techniques` on an analysed text. A contextual model encodes the text unless its pooled
    (clause, token) vectors are given (cross-validation computes them once per article)."""
    p_sent, p_tok = sentence_probs(model, doc), token_probs(model, doc)
    p_emb_clause = None
    if model.contextual:
        sums = None  # the token vectors' prefix sums, when the static word vectors give them
        if vectors is not None:
            clause_x, tok_x = vectors
        elif model.word_vectors is not None:
            clause_x, tok_x, sums = word_doc_vectors_and_sums(doc, model.word_vectors)
        else:
            clause_x, tok_x = model.vectors(doc)
        p_emb_clause = model.emb_clause.probs(clause_x)[:, 0]
        if model.emb_tok is not None:
            p_tok = mix_token_probs(p_tok, emb_token_probs(model.emb_tok, tok_x, sums))
        if model.emb_sent is not None:
            p_sent = mix_token_probs(p_sent, model.emb_sent.probs(sentence_vectors(doc, clause_x)))
    p_clause = context_probs(model, doc, clause_probs(model, doc), p_sent, p_tok, p_emb_clause)
    spans = model_spans(model, doc, p_sent, p_clause, p_tok)
    if model.rules:
        spans.extend(rule_spans(doc, model))
    # identical (technique, start, end) from two layers: keep the higher score
    best: dict[tuple[str, int, int], TechniqueSpan] = {}
    for sp in spans:
        key = (sp.technique, sp.start, sp.end)
        if sp.score >= model.min_confidence and (key not in best or sp.score > best[key].score):
            best[key] = sp
    return sorted(best.values(), key=lambda s: (s.start, s.end, s.technique))
