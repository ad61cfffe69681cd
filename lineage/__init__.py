"""The Python client of the artifact lineage service.

    import lineage

    with lineage.init(project="demo") as run:
        artifact = lineage.Artifact("mnist", "dataset")
        artifact.add_dir("data/mnist")
        run.log_artifact(artifact, aliases=["best"])

    api = lineage.Api()
    api.artifact("demo/mnist:best").download()

Nothing here imports the server: the client needs httpx, tqdm and platformdirs (and
botocore, optionally, for S3 references).
"""

from lineage.api import Api
from lineage.artifacts import Artifact, Manifest, ManifestEntry
from lineage.errors import (
    BadInput,
    Conflict,
    Forbidden,
    LineageError,
    NotFound,
    PayloadTooLarge,
    QueryTooComplex,
    ServerError,
    TransferError,
    Unauthenticated,
    Unavailable,
)
from lineage.graph import LineageEdge, LineageGraph
from lineage.paging import PagedList
from lineage.projects import Project
from lineage.runs import Run, Sweep
from lineage.session import current_run, finish, init, log_artifact, use_artifact

__all__ = [
    "Api",
    "Artifact",
    "BadInput",
    "Conflict",
    "Forbidden",
    "LineageEdge",
    "LineageError",
    "LineageGraph",
    "Manifest",
    "ManifestEntry",
    "NotFound",
    "PagedList",
    "PayloadTooLarge",
    "Project",
    "QueryTooComplex",
    "Run",
    "ServerError",
    "Sweep",
    "TransferError",
    "Unauthenticated",
    "Unavailable",
    "current_run",
    "finish",
    "init",
    "log_artifact",
    "use_artifact",
]
