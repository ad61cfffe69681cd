"""The per-request context every resolver gets (``info.context``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.db.database import Database
from server.domain.access import Viewer
from server.loaders import Loaders
from server.settings import Settings


@dataclass
class Context:
    db: Database
    viewer: Viewer | None
    settings: Settings
    request_id: str
    # the BlobStore and the S3 reference resolver (server.storage), set by the app
    store: Any = None
    references: Any = None
    # the parsed document being executed (server.http.documents.PreparedDocument)
    document: Any = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db, self.viewer)
