"""Download everything the best run of a sweep logged.

python examples/best_run_artifacts.py entity/demo/sweep_id val_acc --goal maximize
"""

from __future__ import annotations

import argparse

import lineage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", help="[entity/]project/sweep_id")
    parser.add_argument("metric", help='a summary key, dotted for nested ones ("val.acc")')
    parser.add_argument("--goal", choices=("maximize", "minimize"), default="maximize")
    parser.add_argument("--root", default="artifacts")
    args = parser.parse_args()

    sweep = lineage.Api().sweep(args.sweep)
    best = sweep.best_run(args.metric, goal=args.goal)
    if best is None:
        raise SystemExit(f"no run of {sweep.path} has a number at summary.{args.metric}")
    print(f"best run: {best.path} ({args.metric} = {best.summary.get(args.metric)})")
    for artifact in best.logged_artifacts():
        folder = artifact.download(f"{args.root}/{artifact.name}-{artifact.version}")
        print(f"  {artifact.path} -> {folder}")


if __name__ == "__main__":
    main()
