"""After every mutation the request's loaders start afresh: what a mutation answers, and
what the mutations after it in the same request answer, reflects its writes."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader

from server.db.database import Database
from server.loaders import Loaders
from tests.fixtures.service import Api
from tests.resolvers.lineage.lab import Lab

TWO_SUMMARIES = """mutation($path: String!) {
  first: updateRun(input: {run: $path, summary: {x: 1}}) {
    project { runs { edges { node { summary } } } } }
  second: updateRun(input: {run: $path, summary: {x: 2}}) {
    project { runs { edges { node { summary } } } } }
}"""

TWO_ALIASES = """mutation($id: ID!) {
  first: updateArtifactAliases(input: {id: $id, add: ["x"]}) { aliases }
  second: updateArtifactAliases(input: {id: $id, add: ["y"]}) { aliases }
}"""


async def test_a_run_mutation_sees_the_one_before_it(api: Api, make_user: Any) -> None:
    lab = await Lab.open(api, await make_user("m"))
    lab.run("r")
    await lab.flush()
    data = await api.ok(TWO_SUMMARIES, {"path": lab.run_path("r")}, lab.key)
    # the second loads the project's runs again, after its own write
    summaries = [
        [e["node"]["summary"] for e in data[field]["project"]["runs"]["edges"]]
        for field in ("first", "second")
    ]
    assert summaries == [[{"x": 1}], [{"x": 2}]]


async def test_an_artifact_mutation_sees_the_one_before_it(api: Api, make_user: Any) -> None:
    lab = await Lab.open(api, await make_user("m"))
    lab.run("r").log("r", "d")
    logged = await lab.flush()
    version_id = logged[-1]["artifact"]["id"]
    data = await api.ok(TWO_ALIASES, {"id": version_id}, lab.key)
    assert data["first"]["aliases"] == ["x", "latest"]
    assert data["second"]["aliases"] == ["x", "y", "latest"]


def test_clear_drops_every_loader(db: Database) -> None:
    """Whatever its name: every DataLoader of a request is a cached property of Loaders."""
    loaders = Loaders(db, None)
    names = [
        name
        for name, value in vars(Loaders).items()
        if isinstance(value, cached_property) and isinstance(getattr(loaders, name), DataLoader)
    ]
    assert len(names) >= 25  # every loader there is, made once
    before = {name: getattr(loaders, name) for name in names}
    loaders.clear()
    assert not [v for v in vars(loaders).values() if isinstance(v, DataLoader)]
    assert all(getattr(loaders, name) is not before[name] for name in names)
