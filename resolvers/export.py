"""Write schema.graphql from the code: ``python -m resolvers.export [path]``."""

from __future__ import annotations

import sys
from pathlib import Path

from resolvers.schema import lineage_schema

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def schema_text() -> str:
    # the same text either way: the executor changes how answers are built, not the types
    return lineage_schema(fast_execution=False).as_str() + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    target.write_text(schema_text())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
