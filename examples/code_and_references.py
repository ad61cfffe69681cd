"""Save this script as a `code` artifact, log an S3 prefix as a reference table, use it.

The S3 objects are read with your own AWS credentials (AWS_ENDPOINT_URL for MinIO):

    python examples/code_and_references.py s3://bucket/tables/ --project demo
"""

from __future__ import annotations

import argparse

import lineage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uri", help="s3://bucket/key or s3://bucket/prefix/")
    parser.add_argument("--project", default="demo")
    parser.add_argument("--name", default="my_table")
    args = parser.parse_args()

    run = lineage.init(project=args.project, save_code=True)  # logs this file as `code`
    table = lineage.Artifact(args.name, "table")
    table.add_reference(args.uri, checksum=True)
    lineage.log_artifact(table)
    used = lineage.use_artifact(f"{args.name}:latest")  # in the run's project
    for path, entry in used.manifest.entries.items():
        print(
            f"{path}: {entry.ref} version {entry.extra.get('versionID')} etag {entry.extra.get('etag')}"
        )
    run.finish()


if __name__ == "__main__":
    main()
