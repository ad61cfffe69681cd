"""The per-request context every resolver gets (``info.context``)."""

from __future__ import annotations

from typing import Any

from server.db.database import Database
from server.domain import accounts
from server.domain.access import Viewer
from server.errors import ServiceError
from server.loaders import Loaders
from server.settings import Settings


class ViewerNotKnownYet(RuntimeError):
    """Code read the viewer while its API key's lookup was still pending: a bug (the
    request fails as INTERNAL rather than answer for a viewer it does not know)."""


class Context:
    """What a request's resolvers share: the database, the viewer and their loaders.

    With ``key_hash`` the viewer is not known yet: the request's API key is looked up by
    the request's first statement (artifact(path)'s, in the same round trip, see
    resolvers/artifacts/queries.py), or by ``authenticate()``. Until then reading
    ``viewer`` or ``loaders`` raises ViewerNotKnownYet, so nothing can answer for a viewer
    it has not seen; a wrong or revoked key found so is kept in ``refused``, and the
    endpoint answers UNAUTHENTICATED (HTTP 401) whatever was computed.
    """

    __slots__ = (
        "_key_hash",
        "_loaders",
        "_viewer",
        "db",
        "document",
        "executions",
        "references",
        "refused",
        "request_id",
        "settings",
        "store",
    )

    def __init__(
        self,
        db: Database,
        viewer: Viewer | None,
        settings: Settings,
        request_id: str,
        store: Any = None,
        references: Any = None,
        document: Any = None,
        key_hash: bytes | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.request_id = request_id
        # the BlobStore and the S3 reference resolver (server.storage), set by the app
        self.store = store
        self.references = references
        # the parsed document being executed (server.http.documents.PreparedDocument)
        self.document = document
        self.refused: ServiceError | None = None
        # the execution contexts run for this request (resolvers/execution.py adds its own)
        self.executions: list[Any] = []
        self._viewer = viewer
        self._key_hash = key_hash
        self._loaders = None if key_hash is not None else Loaders(db, viewer)

    @property
    def viewer(self) -> Viewer | None:
        if self._key_hash is not None:
            raise ViewerNotKnownYet("the request's API key has not been looked up yet")
        return self._viewer

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            raise ViewerNotKnownYet("the request's API key has not been looked up yet")
        return self._loaders

    @property
    def pending_key(self) -> bytes | None:
        """The hash of the API key still to look up (None once the viewer is known)."""
        return self._key_hash

    def settle(self, holder: Viewer | None) -> None:
        """The pending key's holder, as a statement found it: None for a wrong or revoked
        key, which refuses the request (the viewer stays unknown)."""
        if self._key_hash is None:
            raise RuntimeError("the viewer is known already")
        if holder is None:
            self.refused = accounts.key_refused()
            raise self.refused
        self._key_hash = None
        self._viewer = holder
        self._loaders = Loaders(self.db, holder)

    def release(self) -> None:
        """The request is answered: break the reference cycles its execution leaves
        (graphql-core's execution context holds bound methods of itself, resolve infos
        that lead back to it; each loader's closure holds the loaders), so that all of it
        is freed now, by reference counting. Left to Python's cyclic collector, a Q1
        request's ~115 objects piled up until a collection walked them all: a pause of
        ~12 ms every ~170 requests, ~60 us a request. An execution that still has work
        running (background futures) is left alone."""
        for execution in self.executions:
            if not getattr(execution, "background_futures", None) and not getattr(
                execution, "pending_incremental_futures", None
            ):
                execution.__dict__.clear()
        self.executions.clear()
        if self._loaders is not None:
            self._loaders.clear()

    async def authenticate(self) -> None:
        """Look the pending key up, if there is one (UNAUTHENTICATED for a bad one)."""
        if self._key_hash is not None and self.refused is None:
            self.settle(await accounts.viewer_by_key_hash_or_none(self.db, self._key_hash))
        if self.refused is not None:
            raise self.refused
