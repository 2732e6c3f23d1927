"""Command line: ``python -m benchmarks --profile quick --output DIR``."""

from __future__ import annotations

import argparse
import sys

from .profiles import PROFILES
from .runner import EXPERIMENT_NAMES, run


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Test the predictions S1-S9 of the theory page "
        "(doc/theory.rst) and time the estimator; write report.md, "
        "results.json and figures to --output.",
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick",
                        help="run sizes: smoke (seconds), quick (minutes), full")
    parser.add_argument("--output", default="benchmark-results",
                        help="output directory; DIR/cache holds resumable results")
    parser.add_argument("--only", action="append", choices=EXPERIMENT_NAMES,
                        help="run only this experiment (repeatable)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="device of the speed experiment")
    parser.add_argument("--seeds", type=int, default=None,
                        help="number of seeds (overrides the profile)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes (default: the profile's)")
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        parser.error("--seeds must be >= 1")
    results = run(args.profile, args.output, only=args.only, device=args.device,
                  seeds=args.seeds, jobs=args.jobs)
    print(f"Wrote {args.output}/report.md in {results['wall_seconds']:.0f} s.")
    for pid, pred in results["predictions"].items():
        print(f"  {pid}: {pred['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
