"""The web app's lineage tab in headless Chromium against a real `lineage serve`.

    python bench/web.py            # ~3 min, most of it loading the 10,000-node graph

Seeds pipeline-shaped graphs through the public API (tests/web/pipeline.py), then for
each size measures, in the browser, the time from navigation to the graph element's
data-state="ready" (the page's own performance clock: navigation start to the moment the
canvas has drawn); the longest frame while panning the picture with the mouse; and the
time from clicking a node to its side panel showing it. `--data-dir D` keeps the seeded
graphs for the next run. Targets (issue 11): 100 nodes
< 1 s, 1,000 < 2 s, 10,000 < 6 s and pannable (frames < 50 ms), select < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO, machine_load, percentile, print_table, start_server

sys.path.insert(0, str(REPO))
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.web.pipeline import Client, seed_pipeline  # noqa: E402

# (label, project, train runs, distinct names): a pipeline of n train runs has 4n+2 nodes
GRAPHS = [
    ("100 nodes", "web-100", 25, False),
    ("1,000 nodes", "web-1k", 250, False),
    ("10,000 nodes", "web-10k", 2500, False),
    # no two runs share a name stem: nothing clusters until the drawn count passes the cap
    ("590 nodes, none alike", "web-590", 147, True),
]

READY = "[data-lineage][data-state=ready]"

# Frame intervals while the mouse drags the picture, from requestAnimationFrame.
FRAME_PROBE = """() => {
  window.__frames = [];
  let last = performance.now();
  const tick = (now) => { window.__frames.push(now - last); last = now;
    if (window.__frames.length < 100000) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""


# The app's own measures of the last load (web/src/lineage/timing.ts), in ms.
PHASES = """() => ["fetch", "cluster", "layout", "draw"].map((name) => {
  const all = performance.getEntriesByName("lineage " + name);
  return all.length ? Math.round(all[all.length - 1].duration) : "-";
}).join(" / ")"""


async def ready_time(page: Any, url: str) -> float:
    await page.goto(url)
    await page.wait_for_selector(READY, timeout=60_000)
    # navigation start is the page's time origin
    return float(await page.evaluate("performance.now()")) / 1000


async def pan_frames(page: Any) -> list[float]:
    box = await page.get_by_test_id("graph").bounding_box()
    await page.evaluate(FRAME_PROBE)
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    for step in range(60):
        await page.mouse.move(x + step * 8, y + (step % 10) * 3)
        await page.wait_for_timeout(16)  # a hand moves at screen rate, not instantly
    await page.mouse.up()
    frames: list[float] = await page.evaluate("window.__frames.slice(2)")
    return frames


async def select_time(page: Any) -> float | None:
    """Clicking a drawn node (not a cluster) to its panel showing it, in the page's clock."""
    node = page.get_by_test_id("graph").locator("[data-node-id]").last
    if not await node.count():
        return None
    node_id = await node.get_attribute("data-node-id")
    elapsed: float = await page.evaluate(
        """(id) => new Promise((resolve) => {
             const started = performance.now();
             const seen = () => document.querySelector(`.side-panel[data-selected-id="${id}"]`);
             const check = () => seen() ? resolve(performance.now() - started) : requestAnimationFrame(check);
             document.querySelector(`[data-node-id="${id}"]`).click();
             check();
           })""",
        node_id,
    )
    return elapsed / 1000


async def measure(server_url: str, key: str, repeats: int) -> list[list[object]]:
    from playwright.async_api import async_playwright

    rows: list[list[object]] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        page = await context.new_page()
        await page.goto(f"{server_url}/")
        await page.get_by_role("button", name="Sign in").click()
        await page.fill("#api-key", key)
        await page.locator("form.sign-in button[type=submit]").click()
        await page.wait_for_selector("[data-testid=viewer]")
        for label, project, _, _ in GRAPHS:
            url = f"{server_url}/admin/{project}/artifacts/mnist/v0/lineage?direction=DOWNSTREAM&depth=4"
            times = [await ready_time(page, url) for _ in range(repeats)]
            phases = await page.evaluate(PHASES)
            summary = await page.get_by_test_id("graph-summary").inner_text()
            drawn = await page.get_by_test_id("graph").locator(".hit").count()
            # three pans: one stall of a machine shared with other work shows as one
            # long frame in one pan, so the middle pan's longest frame is reported
            pans = [await pan_frames(page) for _ in range(3)]
            frames = [f for pan in pans for f in pan]
            longest = statistics.median(max(pan) for pan in pans if pan)
            selects = [s for s in [await select_time(page) for _ in range(5)] if s is not None]
            rows.append(
                [
                    label,
                    summary,
                    drawn,
                    f"{statistics.median(times):.2f} s",
                    f"{max(times):.2f} s",
                    f"{longest:.0f} ms ({max(frames):.0f})" if frames else "-",
                    f"{percentile(frames, 95):.0f} ms" if frames else "-",
                    f"{statistics.median(selects) * 1000:.0f} ms" if selects else "-",
                    phases,
                ]
            )
        await browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", help="measure only graphs whose project contains this")
    parser.add_argument(
        "--data-dir", help="keep the server's data here; graphs already there are not seeded again"
    )
    args = parser.parse_args()
    if args.only:
        GRAPHS[:] = [g for g in GRAPHS if args.only in g[1]]
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp) / "data"
        key_file = data_dir.parent / f"{data_dir.name}.admin-key"
        server = start_server(data_dir)
        try:
            if server.admin_key:
                key_file.write_text(server.admin_key)
            key = server.admin_key or key_file.read_text()
            client = Client(server.url, key)
            for label, project, trains, distinct in GRAPHS:
                exists = 'query($n: String!) { project(entity: "admin", name: $n) { id } }'
                if client.gql(exists, {"n": project})["project"]:
                    continue
                started = time.perf_counter()
                client.gql(
                    'mutation($n: String!) { createProject(input: {entity: "admin", name: $n}) { id } }',
                    {"n": project},
                )
                seed_pipeline(client, "admin", project, trains=trains, distinct_names=distinct)
                print(f"seeded {label} in {time.perf_counter() - started:.1f} s", flush=True)
            print(f"machine: {machine_load()}")
            rows = asyncio.run(measure(server.url, key, args.repeats))
        finally:
            server.stop()
    print_table(
        [
            "graph",
            "answer",
            "drawn",
            "to ready p50",
            "to ready max",
            "pan: longest frame (worst of 3)",
            "pan: p95 frame",
            "select -> panel p50",
            "last load: fetch / cluster / layout / draw",
        ],
        rows,
        title=f"lineage tab, DOWNSTREAM depth 4 from the dataset, {args.repeats} loads each",
    )


if __name__ == "__main__":
    main()
