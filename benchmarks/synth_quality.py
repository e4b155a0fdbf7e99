"""Quality on the synthetic news-reuse benchmark: generate a seeded corpus, run `analyze`, score it against truth.

    python benchmarks/synth_quality.py -n 500 --seed 13
    python benchmarks/synth_quality.py -n 1000 --seed 13 --realism web   # copies as real laundering leaves them

Prints pair P/R/F1, passage plagdet, systematic-edit recall/precision, cut recall, family purity and the network
figures (ARI, lead/follow direction, independents merged), plus the wall time of each stage.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(n: int, seed: int, base: Path | None, workdir: Path, stages: str, realism: str = "off") -> dict:
    from newstrace.eval.synth_score import score
    from newstrace.pipeline import Run, analyze, parse_stages
    from newstrace.store import Store
    from newstrace.synth.generate import generate
    from newstrace.synth.realism import Realism

    started = time.perf_counter()
    corpus = generate(workdir / "synth", n_articles=n, seed=seed, base_dir=base,
                      realism=Realism.web() if realism == "web" else None)
    generated = time.perf_counter() - started
    out = workdir / "out"
    with Store(out / "newstrace.duckdb") as store:
        result = analyze(Run(store=store, inputs=[corpus], out_dir=out, workers=2), parse_stages(stages))
    scores = score(corpus.parent / "truth.json", out)
    return {"articles": n, "seed": seed, "realism": realism, "generate_s": round(generated, 1),
            "stage_s": {k: round(v, 1) for k, v in result.timings.items()}, "scores": scores}


def flatten(prefix: str, value: object, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else k, v, out)
    elif isinstance(value, (int, float, str)) or value is None:
        out[prefix] = value


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--articles", type=int, default=500)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--base", type=Path, default=None, help="base articles (default: PTC train articles)")
    ap.add_argument("--stages", default="ingest,reuse,edits,network")
    ap.add_argument("--realism", choices=("off", "web"), default="off",
                    help="web: copies paraphrased in places, with sentences added and dropped, through HTML pages "
                         "(newstrace.synth.realism)")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.articles, args.seed, args.base, Path(tmp), args.stages, args.realism)
    flat: dict = {}
    flatten("", result, flat)
    print("| measure | value |\n|---|---|")
    for k, v in flat.items():
        print(f"| {k} | {round(v, 4) if isinstance(v, float) else v} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
