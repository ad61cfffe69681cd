"""A bounded, seeded fuzz run from schema.graphql: 200 valid and 100 invalid operations,
each sent anonymously and as a signed-in user; none may come back as INTERNAL,
UNAVAILABLE, an error without a code, or a bare 500. (``bench/fuzz.py`` runs longer.)"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.fixtures.service import Api
from tests.security.fuzzing import BAD, operations, outcome, summary

SEED = 20260409


@pytest.mark.parametrize(("valid", "count"), [(True, 200), (False, 100)], ids=["valid", "invalid"])
async def test_fuzzed_operations_never_fail_on_the_server(
    api: Api, make_user: Any, valid: bool, count: int
) -> None:
    user = await make_user("fuzz")
    counts: Counter[str] = Counter()
    bad: list[tuple[str, str, str]] = []
    for query in operations(count, valid=valid, random_seed=SEED):
        for key in (None, user.key):
            headers = {"content-type": "application/json"}
            if key:
                headers["authorization"] = f"Bearer {key}"
            response = await api.http.post(
                "/graphql", content=json.dumps({"query": query}), headers=headers
            )
            try:
                body = response.json()
            except ValueError:
                body = None
            result = outcome(response.status_code, body)
            counts[result] += 1
            if result in BAD or not response.headers.get("x-request-id"):
                bad.append((result, query[:300], response.text[:300]))
    assert not bad, f"{summary(counts)}; first failures: {bad[:3]}"
    assert counts["ok"] + counts["BAD_USER_INPUT"] > 0, summary(counts)
