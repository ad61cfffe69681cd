"""The web app in a real browser against a real `lineage serve`: signing in and out, and
each page with real data. (conftest.py fails any test whose page tried to reach another
machine or logged an error.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.web.conftest import World, artifact_url

pytestmark = pytest.mark.asyncio


async def sign_in(page: Any, key: str) -> None:
    await page.get_by_role("button", name="Sign in").click()
    await page.fill("#api-key", key)
    await page.locator("form.sign-in button[type=submit]").click()
    await page.wait_for_selector("[data-testid=viewer]")


async def test_sign_in_exchanges_the_key_for_a_cookie_and_sign_out_ends_it(
    page: Any, world: World
) -> None:
    await page.goto(f"{world.url}/")
    projects = page.get_by_test_id("projects")
    await expect(projects).to_contain_text("alice/pipeline")
    await expect(projects).not_to_contain_text("alice/secret")

    await sign_in(page, world.alice_key)
    await expect(page.get_by_test_id("viewer")).to_have_text("alice")
    await expect(projects).to_contain_text("alice/secret")
    stored = await page.evaluate(
        "() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})"
        " + document.cookie"
    )
    assert world.alice_key not in stored, "the key never sits in the page's storage"
    assert "lineage_session" not in stored, "the session cookie is HttpOnly"
    [cookie] = [c for c in await page.context.cookies() if c["name"] == "lineage_session"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert cookie["expires"] > 0, "the session expires"

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(projects).not_to_contain_text("alice/secret")
    async with httpx.AsyncClient() as http:
        replayed = await http.post(
            f"{world.url}/graphql",
            json={"query": "{ viewer { username } }"},
            headers={"cookie": f"lineage_session={cookie['value']}", "origin": world.url},
        )
    assert replayed.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_wrong_key_is_refused_with_a_message(page: Any, world: World) -> None:
    await page.goto(f"{world.url}/")
    await page.get_by_role("button", name="Sign in").click()
    await page.fill("#api-key", "lin_wrong_key")
    await page.locator("form.sign-in button[type=submit]").click()
    await expect(page.locator("form.sign-in [role=alert]")).to_contain_text("not valid")


async def test_home_searches_projects_by_name(page: Any, world: World) -> None:
    await page.goto(f"{world.url}/")
    await page.get_by_placeholder("Search projects by name").fill("pipe")
    rows = page.get_by_test_id("projects").locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("alice/pipeline")
    await expect(rows.first).to_contain_text("28")  # runs: prep, 12 train, 12 eval, 3 sweep


async def test_project_page_lists_collections_runs_and_sweeps(page: Any, world: World) -> None:
    await page.goto(f"{world.url}/alice/pipeline")
    artifacts = page.locator("#artifacts")
    for text in ("dataset", "mnist", "golden", "model", "report"):
        await expect(artifacts).to_contain_text(text)

    runs = page.get_by_test_id("runs").locator("tbody tr")
    await expect(runs).to_have_count(25)
    await page.get_by_role("button", name="Next →").click()
    await expect(runs).to_have_count(3)
    await page.get_by_role("button", name="← Previous").click()
    await expect(runs).to_have_count(25)

    await page.get_by_role("button", name="acc").click()  # highest first
    await expect(runs.first).to_contain_text("train-11")
    await page.get_by_role("button", name="acc ▼").click()  # then lowest first
    await expect(runs.first).to_contain_text("train-0")

    sweeps = page.get_by_test_id("sweeps")
    await expect(sweeps).to_contain_text("lr search")
    await expect(sweeps).to_contain_text("sweep-run-1")  # acc 0.95, the best of three
    await expect(sweeps).to_contain_text("0.95")


async def test_artifact_page_shows_the_version_its_files_and_its_runs(
    page: Any, world: World
) -> None:
    await page.goto(f"{world.url}/alice/pipeline/artifacts/mnist/latest")
    main = page.locator("main")
    for text in ("mnist:v0", "golden", "MNIST, small", '"rows": 2', "dataset", "prep"):
        await expect(main).to_contain_text(text)
    files = page.get_by_test_id("files").locator("tbody tr")
    await expect(files).to_have_count(2)
    link = files.filter(has_text="train.csv").get_by_role("link", name="Download")
    href = await link.get_attribute("href")
    assert await (await page.request.get(href)).body() == b"x,y\n1,2\n"
    consumers = page.get_by_test_id("consumers").locator("tbody tr")
    await expect(consumers).to_have_count(12)  # the private project's run is not among them
    await expect(page.locator("#versions tbody tr")).to_have_count(1)

    await page.goto(world.url + artifact_url(world.deleted_model))
    await expect(main).to_contain_text("DELETED")
    await expect(main).to_contain_text("This version was deleted")


async def test_run_page_shows_config_summary_sweep_and_artifacts(page: Any, world: World) -> None:
    await page.goto(f"{world.url}/alice/pipeline/runs/train-3")
    main = page.locator("main")
    for text in ("train-3", "FINISHED", '"lr": 0.04', '"acc"', "model:v3", "mnist:v0"):
        await expect(main).to_contain_text(text)
    await page.goto(f"{world.url}/alice/pipeline/runs/sweep-run-1")
    await expect(main).to_contain_text("lr search")
    await page.goto(f"{world.url}/alice/pipeline/runs/train-3")
    await page.locator("#logged").get_by_role("link", name="model:v3").click()
    await expect(page).to_have_url(f"{world.url}/alice/pipeline/artifacts/model/v3")
    await expect(main).to_contain_text("model-3.bin")


async def test_graphiql_runs_a_query_with_the_session(page: Any, world: World) -> None:
    await page.goto(f"{world.url}/")
    await sign_in(page, world.alice_key)
    await page.goto(f"{world.url}/graphql")
    await page.locator(".graphiql-execute-button").click()
    await expect(page.locator(".graphiql-response")).to_contain_text('"username": "alice"')
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    await expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query")
