"""Log a folder as a dataset version from a run (resumed, or created), with an alias.

    LINEAGE_BASE_URL=http://127.0.0.1:8000 LINEAGE_API_KEY=lin_... \\
        python examples/log_dataset.py my_data --project demo --name mnist --alias best
"""

from __future__ import annotations

import argparse

import lineage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--project", default="demo")
    parser.add_argument("--run", default=None, help="run id to resume (default: a new run)")
    parser.add_argument("--name", default="dataset")
    parser.add_argument("--type", default="dataset")
    parser.add_argument("--alias", action="append", default=[])
    args = parser.parse_args()

    with lineage.init(project=args.project, id=args.run, resume="allow") as run:
        artifact = lineage.Artifact(args.name, args.type, metadata={"source": args.folder})
        artifact.add_dir(args.folder)
        run.log_artifact(artifact, aliases=args.alias)
    print(f"logged {artifact.qualified_path} ({artifact.file_count} files) from {run.path}")


if __name__ == "__main__":
    main()
