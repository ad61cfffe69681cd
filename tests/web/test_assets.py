"""The built web app in server/web/static is what web/ builds today, and it ships."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from server.web.assets import manifest, sources_hash

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "web" / "static"
REBUILD = "rebuild it: cd web && npm ci && node build.mjs, then commit server/web/static"


def test_the_committed_build_matches_the_sources() -> None:
    assert manifest().sources_hash == sources_hash(ROOT / "web"), (
        f"server/web/static was built from other sources than web/ holds now: {REBUILD}"
    )


def test_the_manifest_names_every_built_file_and_nothing_else() -> None:
    files = json.loads((STATIC / "manifest.json").read_text())["files"]
    assert set(files) == {"app.js", "app.css", "graphiql.js", "graphiql.css"}
    on_disk = {p.name for p in STATIC.iterdir()} - {"manifest.json"}
    assert on_disk == set(files.values()), f"stray or missing files in server/web/static: {REBUILD}"


def test_a_source_change_changes_the_fingerprint(tmp_path: Path) -> None:
    web = tmp_path / "web"
    (web / "src").mkdir(parents=True)
    (web / "src" / "a.ts").write_text("export const a = 1;\n")
    (web / "package-lock.json").write_text("{}\n")
    (web / "node_modules" / "x").mkdir(parents=True)
    before = sources_hash(web)
    (web / "node_modules" / "x" / "junk.js").write_text("ignored")
    assert sources_hash(web) == before, "node_modules is not a source"
    (web / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    assert sources_hash(web) != before, "the lockfile pins what is built: it is a source"


def test_pip_install_ships_the_built_files() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "web/static/*" in config["tool"]["setuptools"]["package-data"]["server"]
