"""The typed ``info`` every resolver takes."""

from __future__ import annotations

import strawberry

from server.context import Context

Info = strawberry.Info[Context, None]
