"""GraphQL enums of the contract; values are the names, as stored in the database."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class Visibility(Enum):
    PRIVATE = "PRIVATE"
    PUBLIC = "PUBLIC"
    OPEN = "OPEN"


@strawberry.enum
class RunState(Enum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"


@strawberry.enum
class ResumeMode(Enum):
    NEVER = "NEVER"
    ALLOW = "ALLOW"
    MUST = "MUST"


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum
class OptimizationGoal(Enum):
    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


@strawberry.enum
class MemberRole(Enum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


@strawberry.enum
class ArtifactState(Enum):
    PENDING = "PENDING"
    COMMITTED = "COMMITTED"
    DELETED = "DELETED"


@strawberry.enum
class LineageDirection(Enum):
    UPSTREAM = "UPSTREAM"
    DOWNSTREAM = "DOWNSTREAM"
    BOTH = "BOTH"


@strawberry.enum
class LineageEdgeKind(Enum):
    LOGGED = "LOGGED"
    USED = "USED"
