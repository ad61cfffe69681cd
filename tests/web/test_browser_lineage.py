"""The lineage tab in a real browser, on the seed-shaped pipeline
(prep -> mnist -> 12 train runs -> 12 models -> 12 eval runs -> 12 reports)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import expect

from tests.web.conftest import XSS_IMG, World, artifact_url, graph_ready
from tests.web.pipeline import Client, seed_pipeline

pytestmark = pytest.mark.asyncio


def summary(page: Any) -> Any:
    return page.get_by_test_id("graph-summary")


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


async def test_clusters_expand_and_the_list_view_shows_every_node(page: Any, world: World) -> None:
    url = world.url + artifact_url(world.pipeline.dataset, "/lineage?direction=DOWNSTREAM&depth=4")
    await page.goto(url)
    await graph_ready(page)
    await expect(summary(page)).to_have_text("49 nodes, 48 edges")
    graph = page.get_by_test_id("graph")
    clusters = graph.locator("[data-cluster-id]")
    labels = sorted(
        await clusters.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    )
    assert labels == [
        "12 artifacts: model: expand",
        "12 artifacts: report: expand",
        "12 runs: eval: expand",
        "12 runs: train: expand",
    ]
    assert await graph.locator("[data-node-id]").count() == 1  # the dataset itself

    await graph.get_by_label("12 runs: train: expand").click()
    await graph_ready(page)
    # the train runs are drawn one by one; each model has its own run now, so the models
    # and everything after them are no longer siblings of one parent
    await expect(graph.locator("[data-node-id]")).to_have_count(49)
    await expect(clusters).to_have_count(0)

    await page.get_by_role("button", name="List view").click()
    await graph_ready(page)
    rows = page.get_by_test_id("lineage-nodes").locator("tbody tr[data-node-id]")
    await expect(rows).to_have_count(49)
    await expect(rows.first).to_contain_text(world.pipeline.dataset)
    await expect(rows.first.locator("td").last).to_have_text("0")
    report = rows.filter(has_text="report-eval-0-0")
    await expect(report.locator("td").last).to_have_text("4")
    await expect(page.get_by_test_id("lineage-edges").locator("tbody tr")).to_have_count(48)
    assert query_of(page)["view"] == ["list"]


async def test_direction_and_depth_change_the_graph_and_the_url(page: Any, world: World) -> None:
    await page.goto(world.url + artifact_url(world.pipeline.dataset, "/lineage"))
    await graph_ready(page)
    assert query_of(page)["direction"] == ["BOTH"]
    await page.select_option("select[name=direction]", "UPSTREAM")
    await expect(summary(page)).to_have_text("2 nodes, 1 edges")
    await graph_ready(page)
    assert query_of(page)["direction"] == ["UPSTREAM"]
    await page.select_option("select[name=direction]", "DOWNSTREAM")
    await page.select_option("select[name=depth]", "1")
    await expect(summary(page)).to_have_text("13 nodes, 12 edges, truncated")
    assert query_of(page)["depth"] == ["1"]
    await page.select_option("select[name=depth]", "2")
    await expect(summary(page)).to_have_text("25 nodes, 24 edges, truncated")

    # the view survives a reload: it is all in the URL
    await page.reload()
    await graph_ready(page)
    await expect(summary(page)).to_have_text("25 nodes, 24 edges, truncated")
    await expect(page.locator("select[name=direction]")).to_have_value("DOWNSTREAM")


async def test_selecting_a_node_opens_its_panel_and_frontier_nodes_expand_one_hop(
    page: Any, world: World
) -> None:
    url = world.url + artifact_url(world.pipeline.dataset, "/lineage?direction=DOWNSTREAM&depth=1")
    await page.goto(url)
    await graph_ready(page)
    graph = page.get_by_test_id("graph")
    await graph.get_by_label("12 runs: train: expand").click()
    await graph_ready(page)
    train = graph.get_by_label("run train-0", exact=True)
    await train.click()
    panel = page.locator(".side-panel")
    await expect(panel).to_contain_text("train-0")
    await expect(panel).to_contain_text(f"{world.alice}/pipeline/train-0")
    node_id = await train.get_attribute("data-node-id")
    assert query_of(page)["node"] == [node_id]

    await panel.get_by_role("button", name="Expand one more hop").click()
    await expect(summary(page)).to_have_text("14 nodes, 13 edges, truncated")
    await expect(graph.get_by_label("artifact model:v0", exact=True)).to_have_count(1)

    # a shared URL opens the same node, inside its cluster
    await page.goto(url + f"&node={node_id}")
    await graph_ready(page)
    await expect(page.locator(".side-panel")).to_have_attribute("data-selected-id", node_id)
    await expect(graph.locator(f'[data-node-id="{node_id}"]')).to_have_attribute(
        "aria-pressed", "true"
    )

    # keyboard: a node is a button
    dataset = graph.get_by_label("artifact mnist:v0", exact=True)
    await dataset.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(".side-panel")).to_contain_text("dataset")
    await page.locator(".side-panel").get_by_role("link", name="Open artifact page →").click()
    await expect(page).to_have_url(world.url + artifact_url(world.pipeline.dataset))


async def test_the_picture_exports_as_svg_and_png(page: Any, world: World) -> None:
    await page.goto(world.url + artifact_url(world.xss_artifact, "/lineage"))
    await graph_ready(page)
    async with page.expect_download() as svg_download:
        await page.get_by_role("button", name="Export SVG").click()
    svg = (await (await svg_download.value).path()).read_text()
    assert svg.startswith("<svg")
    assert "payload-data:v0" in svg
    assert "<img" not in svg, "labels are text in the SVG too"
    async with page.expect_download() as png_download:
        await page.get_by_role("button", name="Export PNG").click()
    png = (await (await png_download.value).path()).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_pan_zoom_and_fit_move_the_picture_and_its_nodes_together(
    page: Any, world: World
) -> None:
    await page.goto(
        world.url + artifact_url(world.pipeline.dataset, "/lineage?direction=DOWNSTREAM&depth=4")
    )
    await graph_ready(page)
    dataset = page.get_by_test_id("graph").get_by_label("artifact mnist:v0", exact=True)
    before = await dataset.bounding_box()
    await page.get_by_role("button", name="Zoom in").click()
    zoomed = await dataset.bounding_box()
    assert zoomed["width"] > before["width"] * 1.2
    box = await page.get_by_test_id("graph").bounding_box()
    await page.mouse.move(box["x"] + 20, box["y"] + box["height"] - 20)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 220, box["y"] + box["height"] - 60, steps=8)
    await page.mouse.up()
    panned = await dataset.bounding_box()
    assert panned["x"] == pytest.approx(zoomed["x"] + 200, abs=3)
    await dataset.click()  # selecting keeps the view where the user put it
    await expect(page.locator(".side-panel")).to_contain_text("mnist:v0")
    assert await dataset.bounding_box() == pytest.approx(panned, abs=1)
    await page.get_by_role("button", name="Fit").click()
    assert (await dataset.bounding_box())["width"] == pytest.approx(before["width"], rel=0.01)


async def test_private_runs_are_absent_for_anonymous_and_non_members(
    page: Any, world: World
) -> None:
    from tests.web.test_browser_pages import sign_in

    url = world.url + artifact_url(
        world.pipeline.dataset, "/lineage?direction=DOWNSTREAM&depth=1&view=list"
    )
    rows = page.get_by_test_id("lineage-nodes").locator("tbody tr")

    async def listed() -> str:
        await page.goto(url)
        await graph_ready(page)
        await expect(rows).not_to_have_count(0)
        return str(await page.get_by_test_id("lineage-nodes").inner_text())

    secret = f"{world.alice}/{world.secret_project}"
    assert secret not in await listed()
    await expect(summary(page)).to_have_text("13 nodes, 12 edges, truncated")
    response = await page.goto(f"{world.url}/{secret}/runs/hidden-run")
    assert response.status == 404
    await expect(page.locator("[data-page=not-found]")).to_be_visible()

    await page.goto(f"{world.url}/")
    await sign_in(page, world.bob_key)
    assert secret not in await listed()
    response = await page.goto(f"{world.url}/{secret}/runs/hidden-run/lineage")
    assert response.status == 404

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await sign_in(page, world.alice_key)
    assert f"{secret}/hidden-run" in await listed()
    await expect(summary(page)).to_have_text("14 nodes, 13 edges, truncated")
    response = await page.goto(f"{world.url}/{secret}/runs/hidden-run/lineage")
    assert response.status == 200


async def test_user_text_is_shown_as_text_and_runs_nothing(page: Any, world: World) -> None:
    pages = [
        f"/{world.alice}/xss",
        "/" + world.xss_run.replace("/payload", "/runs/payload"),
        artifact_url(world.xss_artifact),
        artifact_url(world.xss_artifact, "/lineage"),
        artifact_url(world.xss_artifact, "/lineage?view=list"),
    ]
    for path in pages:
        await page.goto(world.url + path)
        await page.wait_for_selector("main .page, [data-lineage][data-state=ready]")
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate("() => window.__xss") is None, path
        assert await page.locator("main img").count() == 0, path
        assert await page.locator("main script").count() == 0, path
    await page.goto(world.url + artifact_url(world.xss_artifact))
    main = page.locator("main")
    await expect(main).to_contain_text(XSS_IMG)  # the description, the alias, a file path
    await expect(page.get_by_test_id("files")).to_contain_text(f"dir/{XSS_IMG}.txt")


@pytest.fixture(scope="module")
def wide_pipeline(world: World) -> str:
    """160 train runs: opening their cluster would draw 640 nodes, past the cap of 600."""
    client = Client(world.url, world.alice_key)
    client.gql(
        'mutation { createProject(input: {entity: "alice", name: "wide", visibility: PUBLIC}) { id } }'
    )
    return seed_pipeline(client, world.alice, "wide", trains=160).dataset


async def test_a_cluster_too_big_to_draw_stays_closed_and_says_so(
    page: Any, world: World, wide_pipeline: str
) -> None:
    await page.goto(
        world.url + artifact_url(wide_pipeline, "/lineage?direction=DOWNSTREAM&depth=4")
    )
    await graph_ready(page)
    await expect(summary(page)).to_have_text("641 nodes, 640 edges")
    graph = page.get_by_test_id("graph")
    await graph.get_by_label("160 runs: train: expand").click()
    await expect(page.locator(".lineage .notice")).to_contain_text("more than 600 nodes")
    await expect(graph.get_by_label("160 runs: train: expand")).to_have_count(1)
    await page.get_by_role("button", name="List view").click()
    await expect(page.get_by_test_id("lineage-nodes").locator("tbody tr")).to_have_count(641)
