"""What the fast executor's differential tests compare, and a count that shows it was taken."""

from __future__ import annotations

import json
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

Outcome = tuple[Any, list[dict[str, Any]], str]


def outcome(result: Any) -> Outcome:
    """data, errors, and data as JSON text: keys must come in the order selected too."""
    return result.data, [error.formatted for error in result.errors or []], json.dumps(result.data)


def count_completions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """calls[0] counts complete_value calls: one per field and list item on the normal path."""
    calls = [0]
    original = StrawberryGraphQLCoreExecutionContext.complete_value

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "complete_value", counting)
    return calls
