"""Walk the graph around an artifact: who made it, who used it, what they made.

python examples/walk_lineage.py demo/mnist:latest
"""

from __future__ import annotations

import argparse

import lineage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifact", help="[entity/]project/name[:alias]")
    parser.add_argument("--depth", type=int, default=6)
    args = parser.parse_args()

    api = lineage.Api()
    artifact = api.artifact(args.artifact)
    producer = artifact.logged_by()
    print(f"{artifact.path}: {artifact.file_count} files, {artifact.size} bytes")
    print(f"  logged by {producer.path if producer else '(hidden)'}")
    if producer is not None:
        for used in producer.used_artifacts():
            print(f"    which used {used.path}")
    for consumer in artifact.used_by():  # pages through every consumer
        made = ", ".join(a.path for a in consumer.logged_artifacts()) or "nothing yet"
        print(f"  used by {consumer.path} [{consumer.state}], which logged {made}")

    graph = artifact.lineage(direction="downstream", depth=args.depth)
    print(f"downstream within {args.depth} hops: {len(graph.nodes)} nodes, {len(graph.edges)} edges"
          + (" (truncated)" if graph.truncated else ""))  # fmt: skip


if __name__ == "__main__":
    main()
