"""`python -m newstrace.synth generate|score|oracle`: the synthetic benchmark without the main CLI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m newstrace.synth", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write corpus.jsonl and truth.json into OUT")
    g.add_argument("out", type=Path)
    g.add_argument("-n", "--n-articles", type=int, default=500)
    g.add_argument("--seed", type=int, default=13)
    g.add_argument("--base", type=Path, default=None, help="folder of base .txt articles (default: PTC train)")
    g.add_argument("--no-filler", action="store_true", help="base texts only; fail if they do not suffice")
    g.add_argument("--realism", choices=("off", "web"), default="off",
                   help="web: what real laundering does beyond the planted edits (newstrace.synth.realism)")
    s = sub.add_parser("score", help="score an analyze --out folder against truth.json; prints JSON")
    s.add_argument("truth", type=Path)
    s.add_argument("analyze_dir", type=Path)
    o = sub.add_parser("oracle", help="write the truth itself as an analyze folder (the perfect prediction)")
    o.add_argument("truth", type=Path)
    o.add_argument("corpus", type=Path)
    o.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "generate":
            from newstrace.synth.generate import generate
            from newstrace.synth.realism import Realism

            path = generate(args.out, n_articles=args.n_articles, seed=args.seed, base_dir=args.base,
                            filler=not args.no_filler, realism=Realism.web() if args.realism == "web" else None)
            print(path)
        elif args.cmd == "score":
            from newstrace.eval.synth_score import score

            print(json.dumps(score(args.truth, args.analyze_dir), indent=2))
        else:
            from newstrace.synth.oracle import write_oracle

            print(write_oracle(args.truth, args.corpus, args.out))
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
