from typing import Any

from tests.fixtures.service import Api


async def test_viewer_and_run(api: Api, make_user: Any) -> None:
    alice = await make_user("alice")
    data = await api.ok("{ viewer { username defaultEntity { name } } }", key=alice.key)
    assert data["viewer"]["username"] == alice.name
    data = await api.ok(
        'mutation { upsertRun(input: {project: "p", runId: "r1", config: {a: 1}}) { path config } }',
        key=alice.key,
    )
    assert data["upsertRun"] == {"path": f"{alice.name}/p/r1", "config": {"a": 1}}
