"""Probe: how far does *fine-tuning* MiniLM as a token tagger get on one grouped-CV split of PTC train?

    /tmp/tv/bin/python benchmarks/finetune_probe.py --blocks 6 --epochs 3 --repeat 0 --fold 0

An experiment, not part of any install: it needs PyTorch (training only) besides the `minilm` extra, run from a
venv that has torch and sees newstrace (see benchmarks/README.md, persuasion, "Stop 26"). It answers one question before
anyone builds a distilled CPU student: is the fine-tuned teacher itself above issue 13's SI F1 target?

The split is the same as `ptc_cv.py --repeats 5 --folds 2` (seed 13): the test fold's articles are never seen in
training. 10% of the training articles are held out inside the fold to pick the epoch and the thresholds. Each
word piece gets 1 + 14 sigmoid outputs (inside any propaganda span; inside a span of each technique); runs of
pieces above threshold become character spans. SI is scored both from the SI output and as the union of the
technique spans (which is how `ptc_cv.py --from-pred` reads the saved predictions).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from torch import nn

from newstrace.eval.spans import si_score, technique_score
from newstrace.signals import train as T
from newstrace.signals.encoder import STRIDE, WINDOW, model_dir, read_safetensors

BODY = WINDOW - 2  # the numpy encoder's windows: word pieces between [CLS] and [SEP]


class Block(nn.Module):
    def __init__(self, t: dict, i: int, heads: int = 12) -> None:
        super().__init__()
        p = f"encoder.layer.{i}."
        self.heads = heads

        def lin(name: str) -> nn.Linear:
            w = torch.tensor(np.array(t[name + ".weight"], dtype=np.float32))
            layer = nn.Linear(w.shape[1], w.shape[0])
            layer.weight.data.copy_(w)
            layer.bias.data.copy_(torch.tensor(np.array(t[name + ".bias"], dtype=np.float32)))
            return layer

        def norm(name: str) -> nn.LayerNorm:
            layer = nn.LayerNorm(384, eps=1e-12)
            layer.weight.data.copy_(torch.tensor(np.array(t[name + ".weight"], dtype=np.float32)))
            layer.bias.data.copy_(torch.tensor(np.array(t[name + ".bias"], dtype=np.float32)))
            return layer

        self.q, self.k, self.v = (lin(p + f"attention.self.{m}") for m in ("query", "key", "value"))
        self.o = lin(p + "attention.output.dense")
        self.ln1 = norm(p + "attention.output.LayerNorm")
        self.ff1 = lin(p + "intermediate.dense")
        self.ff2 = lin(p + "output.dense")
        self.ln2 = norm(p + "output.LayerNorm")

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, n, h, d // h).transpose(1, 2)

        ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                             attn_mask=pad[:, None, None, :])
        x = self.ln1(x + self.o(ctx.transpose(1, 2).reshape(b, n, d)))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class Tagger(nn.Module):
    def __init__(self, t: dict, blocks: int, n_out: int) -> None:
        super().__init__()

        def emb(name: str) -> nn.Embedding:
            w = torch.tensor(np.array(t[name], dtype=np.float32))
            return nn.Embedding.from_pretrained(w, freeze=False)

        self.word = emb("embeddings.word_embeddings.weight")
        self.pos = emb("embeddings.position_embeddings.weight")
        self.typ = torch.tensor(np.array(t["embeddings.token_type_embeddings.weight"][0], dtype=np.float32))
        self.ln = nn.LayerNorm(384, eps=1e-12)
        self.ln.weight.data.copy_(torch.tensor(np.array(t["embeddings.LayerNorm.weight"], dtype=np.float32)))
        self.ln.bias.data.copy_(torch.tensor(np.array(t["embeddings.LayerNorm.bias"], dtype=np.float32)))
        self.blocks = nn.ModuleList(Block(t, i) for i in range(blocks))
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(384, n_out)

    def forward(self, ids: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        x = self.ln(self.word(ids) + self.pos(torch.arange(n))[None] + self.typ)
        for blk in self.blocks:
            x = blk(self.drop(x), pad)
        return self.head(self.drop(x))


def piece_labels(a: T.PTCArticle, offs: np.ndarray, techs: list[str]) -> np.ndarray:
    y = np.zeros((len(offs), 1 + len(techs)), dtype=np.float32)
    s, e = offs[:, 0], offs[:, 1]
    for gs, ge in a.si:
        y[(s < ge) & (e > gs), 0] = 1
    for tech, gs, ge in a.spans:
        y[(s < ge) & (e > gs), 1 + techs.index(tech)] = 1
    return y


def windows(n: int) -> list[int]:
    starts = list(range(0, max(n - BODY, 0) + 1, STRIDE))
    if starts[-1] + BODY < n:
        starts.append(n - BODY)
    return starts


def batch(chunks: list[np.ndarray], cls: int, sep: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(c) for c in chunks) + 2
    ids = np.zeros((len(chunks), width), dtype=np.int64)
    pad = np.zeros((len(chunks), width), dtype=bool)
    for i, c in enumerate(chunks):
        ids[i, : len(c) + 2] = [cls, *c, sep]
        pad[i, : len(c) + 2] = True
    return torch.tensor(ids), torch.tensor(pad)


@torch.no_grad()
def predict(model: Tagger, ids: np.ndarray, cls: int, sep: int) -> np.ndarray:
    """Sigmoid outputs per word piece; each piece from the window where it is furthest from an edge."""
    model.eval()
    n = len(ids)
    out = np.zeros((n, model.head.out_features), dtype=np.float32)
    best = np.full(n, -1)
    starts = windows(n)
    chunk_ids = [ids[s : s + BODY] for s in starts]
    x, pad = batch(chunk_ids, cls, sep)
    probs = torch.sigmoid(model(x, pad)).numpy()
    for w, s in enumerate(starts):
        e = min(n, s + BODY)
        pos = np.arange(s, e)
        left = pos - s + 1 if s > 0 else np.full(len(pos), n + 1)
        right = e - pos if e < n else np.full(len(pos), n + 1)
        margin = np.minimum(left, right)
        take = margin > best[s:e]
        out[pos[take]] = probs[w, 1 : 1 + e - s][take]
        best[s:e] = np.where(take, margin, best[s:e])
    return out


def runs(p: np.ndarray, th: float, offs: np.ndarray, text: str) -> list[tuple[int, int, float]]:
    """Character spans of the runs of pieces above `th`; a run is widened to whole words."""
    on = p > th
    spans = []
    i = 0
    n = len(p)
    while i < n:
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and on[j + 1]:
            j += 1
        s, e = int(offs[i, 0]), int(offs[j, 1])
        while s > 0 and text[s - 1].isalnum():
            s -= 1
        while e < len(text) and text[e].isalnum():
            e += 1
        spans.append((s, e, float(p[i : j + 1].mean())))
        i = j + 1
    return spans


def decode(probs: dict, th_si: float, th_t: np.ndarray, data: dict, techs: list[str]) -> tuple[dict, dict]:
    si, tc = {}, {}
    for aid, p in probs.items():
        offs, text = data[aid]
        si[aid] = [(s, e) for s, e, _ in runs(p[:, 0], th_si, offs, text)]
        tc[aid] = [(techs[t], s, e, c) for t in range(len(techs)) for s, e, c in runs(p[:, 1 + t], th_t[t], offs, text)]
    return si, tc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/ptc-train")
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=0)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--save-pred", default=None, help="folder for the test fold's predictions (ptc_cv format)")
    ap.add_argument("--save-model", default=None, help="save the fine-tuned state dict here (torch format)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()

    articles = T.load_ptc(args.data)
    techs = sorted({t for a in articles for t, _, _ in a.spans})
    root = model_dir()
    tok = Tokenizer.from_file(str(root / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    enc = {}
    for a in articles:
        e = tok.encode(a.text, add_special_tokens=False)
        offs = np.array(e.offsets, dtype=np.int64).reshape(-1, 2)
        enc[a.id] = (np.array(e.ids, dtype=np.int64), offs, piece_labels(a, offs, techs))
    data = {a.id: (enc[a.id][1], a.text) for a in articles}

    order = np.random.default_rng(args.seed + args.repeat).permutation(len(articles))
    test = set(np.sort(order[args.fold :: args.folds]).tolist())
    train_ids = [articles[i].id for i in range(len(articles)) if i not in test]
    test_ids = [articles[i].id for i in sorted(test)]
    rng = np.random.default_rng(args.seed)
    inner = set(rng.choice(train_ids, size=max(1, len(train_ids) // 10), replace=False).tolist())
    fit_ids = [a for a in train_ids if a not in inner]
    dev_ids = sorted(inner)

    chunks = []
    for aid in fit_ids:
        ids, _, y = enc[aid]
        for s in windows(len(ids)):
            chunks.append((ids[s : s + BODY], y[s : s + BODY]))
    print(f"{len(fit_ids)} fit / {len(dev_ids)} dev / {len(test_ids)} test articles, {len(chunks)} windows, "
          f"{sum(len(c[0]) for c in chunks)} pieces", flush=True)

    t = read_safetensors(root / "model.safetensors")
    model = Tagger(t, args.blocks, 1 + len(techs))
    y_all = np.concatenate([c[1] for c in chunks])
    pos_rate = y_all.mean(axis=0)
    # rare techniques get a larger positive weight, capped so that a handful of pieces cannot dominate
    pos_weight = torch.tensor(np.clip((1 - pos_rate) / np.maximum(pos_rate, 1e-4), 1, 30) ** 0.5, dtype=torch.float32)
    head_params = list(model.head.parameters())
    body_params = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": body_params, "lr": args.lr}, {"params": head_params, "lr": 1e-3}],
                            weight_decay=0.01)
    steps = args.epochs * ((len(chunks) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / (0.06 * steps)) *
                                              max(0.0, (steps - k) / steps))

    def probs_for(ids_list: list[str]) -> dict:
        return {aid: predict(model, enc[aid][0], cls, sep) for aid in ids_list}

    def tune(probs: dict) -> tuple[float, np.ndarray, float]:
        gold_si = {a: next(x.si for x in articles if x.id == a) for a in probs}
        gold_tc = {a: next(x.spans for x in articles if x.id == a) for a in probs}
        grid = np.arange(0.2, 0.81, 0.05)
        best_si = max(grid, key=lambda th: si_score(decode(probs, th, np.ones(len(techs)), data, techs)[0],
                                                    gold_si).f1)
        th_t = np.full(len(techs), 0.5)
        for _ in range(2):  # coordinate ascent over the per-technique thresholds
            for k in range(len(techs)):
                def f1(th: float, k: int = k) -> float:
                    trial = th_t.copy()
                    trial[k] = th
                    return technique_score({a: [x[:3] for x in v] for a, v in
                                            decode(probs, 2.0, trial, data, techs)[1].items()}, gold_tc)[0].f1
                th_t[k] = max(grid, key=f1)
        si_f1 = si_score(decode(probs, best_si, th_t, data, techs)[0], gold_si).f1
        return float(best_si), th_t, si_f1

    best = (-1.0, None, None)
    for epoch in range(args.epochs):
        model.train()
        perm = rng.permutation(len(chunks))
        losses = []
        for b0 in range(0, len(perm), args.batch):
            sel = [chunks[i] for i in perm[b0 : b0 + args.batch]]
            x, pad = batch([c[0] for c in sel], cls, sep)
            y = torch.zeros(x.shape[0], x.shape[1], 1 + len(techs))
            for i, c in enumerate(sel):
                y[i, 1 : 1 + len(c[1])] = torch.tensor(c[1])
            logits = model(x, pad)
            mask = pad.clone()
            mask[:, 0] = False
            mask[torch.arange(len(sel)), pad.sum(1) - 1] = False
            loss = F.binary_cross_entropy_with_logits(logits[mask], y[mask], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        dev = probs_for(dev_ids)
        th_si, th_t, dev_f1 = tune(dev)
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, dev SI F1 {dev_f1:.3f} (th {th_si:.2f}) "
              f"{time.perf_counter() - t0:.0f}s", flush=True)
        if dev_f1 > best[0]:
            best = (dev_f1, (th_si, th_t), {k: v.clone() for k, v in model.state_dict().items()})

    model.load_state_dict(best[2])
    th_si, th_t = best[1]
    t1 = time.process_time()
    test_probs = probs_for(test_ids)
    cpu_ms = (time.process_time() - t1) * 1000 / len(test_ids)
    si_pred, tc_pred = decode(test_probs, th_si, th_t, data, techs)
    gold_si = {a.id: a.si for a in articles if a.id in set(test_ids)}
    gold_tc = {a.id: a.spans for a in articles if a.id in set(test_ids)}
    si = si_score(si_pred, gold_si)
    si_union = si_score({a: [(s, e) for _, s, e, _ in v] for a, v in tc_pred.items()}, gold_si)
    tc, per = technique_score({a: [x[:3] for x in v] for a, v in tc_pred.items()}, gold_tc)
    print(f"repeat {args.repeat} fold {args.fold}, {args.blocks} blocks: SI F1 {si.f1:.3f} (P {si.precision:.3f} "
          f"R {si.recall:.3f}); SI F1 as union of technique spans {si_union.f1:.3f}; TA F1 {tc.f1:.3f} "
          f"(P {tc.precision:.3f} R {tc.recall:.3f}); {cpu_ms:.0f} ms CPU per test article (torch); "
          f"{time.perf_counter() - t0:.0f}s total", flush=True)
    for lab, r in sorted(per.items(), key=lambda kv: -kv[1].f1):
        print(f"  {lab:40s} P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f}")
    if args.save_pred:
        Path(args.save_pred).mkdir(parents=True, exist_ok=True)
        Path(args.save_pred, f"r{args.repeat}f{args.fold}.json").write_text(json.dumps(tc_pred))
        # the SI output's spans apart, in a subfolder that `ptc_cv.py --from-pred` does not read
        Path(args.save_pred, "si").mkdir(exist_ok=True)
        Path(args.save_pred, "si", f"r{args.repeat}f{args.fold}.json").write_text(json.dumps(si_pred))
    if args.save_model:
        torch.save({"state": best[2], "th_si": th_si, "th_t": th_t.tolist(), "techs": techs}, args.save_model)


if __name__ == "__main__":
    main()
