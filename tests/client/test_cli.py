"""The ``lineage`` command's client side: login, artifact put/get/ls, the lineage tree."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lineage
from tests.client.conftest import lineage_cli
from tests.client.serve import ServeProcess
from tests.fixtures.service import Account, unique


def test_login_stores_the_key_privately_and_later_commands_use_it(
    server: ServeProcess, account: Account, run_client: Callable[..., Any], tmp_path: Path,
    client_env: dict[str, str],
) -> None:  # fmt: skip
    done = run_client([*lineage_cli(), "login", account.key], None, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"as {account.name}" in done.stdout
    stored = Path(client_env["LINEAGE_CONFIG_DIR"]) / "settings.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["keys"] == {server.url: account.key}

    project = unique("p")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text(project)
    put = run_client(
        [*lineage_cli(), "artifact", "put", "data", "--project", project, "--name", "ds",
         "--type", "dataset", "--alias", "first"],
        None, tmp_path,
    )  # fmt: skip
    assert put.returncode == 0, put.stderr
    assert put.stdout.strip() == f"{account.name}/{project}/ds:v0"

    # the environment wins over the stored file
    wrong = run_client([*lineage_cli(), "artifact", "ls", project], "lin_not_a_key", tmp_path)
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("lineage: ")
    assert "Traceback" not in wrong.stderr


def test_login_refuses_a_wrong_key(
    run_client: Callable[..., Any], tmp_path: Path, client_env: dict[str, str]
) -> None:
    done = run_client([*lineage_cli(), "login", "lin_wrong"], None, tmp_path)
    assert done.returncode == 1
    assert "lineage: " in done.stderr
    assert not (Path(client_env["LINEAGE_CONFIG_DIR"]) / "settings.json").exists()


def test_put_get_ls_and_the_lineage_tree(
    server: ServeProcess, account: Account, run_client: Callable[..., Any], tmp_path: Path,
) -> None:  # fmt: skip
    project = unique("p")
    folder = tmp_path / "raw"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("a\n1\n")
    (folder / "sub" / "b.csv").write_text(project)
    put = run_client(
        [*lineage_cli(), "artifact", "put", str(folder), "--project", project, "--name", "raw",
         "--type", "dataset", "--alias", "best", "--alias", "fresh"],
        account.key, tmp_path,
    )  # fmt: skip
    assert put.returncode == 0, put.stderr

    # a run uses raw and logs clean, so the tree has something to show
    with lineage.init(project=project, id="prep", base_url=server.url, api_key=account.key) as run:
        run.use_artifact("raw:best")
        clean = lineage.Artifact("clean", "dataset")
        with clean.new_file("c.csv") as out:
            out.write(project)
        run.log_artifact(clean)

    got = run_client(
        [*lineage_cli(), "artifact", "get", f"{project}/raw:best", "--root", "out"],
        account.key,
        tmp_path,
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "out"
    assert (tmp_path / "out" / "sub" / "b.csv").read_text() == project

    listed = run_client([*lineage_cli(), "artifact", "ls", project], account.key, tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.strip().splitlines()]
    assert rows[0][:5] == ["NAME", "TYPE", "VERSION", "ALIASES", "FILES"]
    assert sorted(r[:5] for r in rows[1:]) == [
        ["clean", "dataset", "v0", "latest", "1"],
        ["raw", "dataset", "v0", "best,fresh,latest", "2"],
    ]

    tree = run_client(
        [*lineage_cli(), "lineage", f"{project}/raw:best", "--direction", "downstream", "--depth", "4"],
        account.key, tmp_path,
    )  # fmt: skip
    assert tree.returncode == 0, tree.stderr
    who = f"{account.name}/{project}"
    assert tree.stdout.splitlines() == [
        f"artifact {who}/raw:v0 (dataset)",
        f"└── run {who}/prep",
        f"    └── artifact {who}/clean:v0 (dataset)",
    ]
    both = run_client(
        [*lineage_cli(), "lineage", f"{who}/prep", "--depth", "1"], account.key, tmp_path
    )
    assert both.returncode == 0, both.stderr
    assert both.stdout.splitlines() == [
        "upstream:", f"run {who}/prep", f"└── artifact {who}/raw:v0 (dataset)",
        "(truncated: more lies beyond depth 1 or limit 1000)",  # the run that logged raw
        "", "downstream:", f"run {who}/prep", f"└── artifact {who}/clean:v0 (dataset)",
    ]  # fmt: skip


def test_errors_are_one_line_without_a_traceback(
    account: Account, run_client: Callable[..., Any], tmp_path: Path
) -> None:
    missing = run_client(
        [*lineage_cli(), "artifact", "get", f"{unique('p')}/nothing:latest"], account.key, tmp_path
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("lineage: artifact ")
    assert "not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert missing.stdout == ""

    not_a_folder = run_client(
        [*lineage_cli(), "artifact", "put", "nope", "--project", "p", "--name", "n", "--type", "t"],
        account.key, tmp_path,
    )  # fmt: skip
    assert not_a_folder.returncode == 1
    assert not_a_folder.stderr == "lineage: nope is not a folder\n"


def test_server_commands_are_forwarded_and_client_commands_load_no_server_code(
    run_client: Callable[..., Any], tmp_path: Path
) -> None:
    helped = run_client([*lineage_cli(), "serve", "--help"], None, tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "--port" in helped.stdout
    probe = (
        "import sys, lineage, lineage.cli, lineage.download, lineage.upload, lineage.tree;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'server', 'resolvers', 'strawberry', 'asyncpg', 'starlette'}))"
    )
    imported = run_client([sys.executable, "-c", probe], None, tmp_path)
    assert imported.stdout.strip() == "[]", imported.stderr
