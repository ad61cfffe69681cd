"""The ``lineage`` command.

Client commands (``login``, ``artifact put/get/ls``, ``lineage``) run here; ``serve``,
``user`` and ``key`` are the server's and go to ``server.cli.main`` unchanged, imported
only for them, so the client commands never load the server.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

SERVER_COMMANDS = ("serve", "user", "key")
# the server's options that come before its command and take a value
SERVER_VALUE_OPTIONS = ("--data-dir", "--log-level")


def _command_of(argv: list[str]) -> str | None:
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in SERVER_VALUE_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            return token
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lineage",
        description="Artifact lineage: the client commands below, and the server's "
        "`serve`, `user create` and `key create/revoke` (see `lineage serve --help`).",
    )
    parser.add_argument("--base-url", help="the service (default $LINEAGE_BASE_URL, then login)")
    parser.add_argument("--api-key", help="default $LINEAGE_API_KEY, then the stored login")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="check an API key and store it for this server")
    login.add_argument("key", nargs="?", help="the key (asked for when left out)")

    artifact = commands.add_parser("artifact", help="log, download and list artifacts")
    actions = artifact.add_subparsers(dest="action", required=True, metavar="ACTION")
    put = actions.add_parser("put", help="log a folder as an artifact, from a new run")
    put.add_argument("folder", type=Path)
    put.add_argument("--project", required=True)
    put.add_argument("--name", required=True)
    put.add_argument("--type", required=True)
    put.add_argument("--alias", action="append", default=[], help="repeat for several")
    put.add_argument("--entity", help="default: $LINEAGE_ENTITY, else your own")
    put.add_argument("--description")
    get = actions.add_parser("get", help="download a version; prints the folder")
    get.add_argument("path", help="[entity/]project/name[:alias]")
    get.add_argument("--root", type=Path, help="default ./artifacts/<name>:<version>")
    ls = actions.add_parser("ls", help="the latest version of each artifact of a project")
    ls.add_argument("project", help="[entity/]project")
    ls.add_argument("--type")

    graph = commands.add_parser("lineage", help="print the graph around an artifact or a run")
    graph.add_argument(
        "path", help="an artifact ([entity/]project/name:alias) or a run (entity/project/run_id)"
    )
    graph.add_argument("--direction", choices=("upstream", "downstream", "both"), default="both")
    graph.add_argument("--depth", type=int, default=3)
    graph.add_argument("--limit", type=int, default=1000)
    for name, help_text in (("serve", "run the API server"), ("user", "create users"),
                            ("key", "issue and revoke API keys")):  # fmt: skip
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if _command_of(argv) in SERVER_COMMANDS:
        from server.cli import main as server_main

        server_main(argv)
        return
    args = _parser().parse_args(argv)
    from lineage.errors import LineageError

    try:
        _run(args)
    except LineageError as exc:
        print(f"lineage: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("lineage: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


def _run(args: argparse.Namespace) -> None:
    from lineage.api import Api

    if args.command == "login":
        _login(args)
        return
    api = Api(base_url=args.base_url, api_key=args.api_key)
    if args.command == "lineage":
        from lineage.tree import print_lineage

        print_lineage(api, args.path, args.direction, args.depth, args.limit)
    elif args.action == "put":
        _put(args)
    elif args.action == "get":
        artifact = api.artifact(args.path)
        print(artifact.download(args.root))
    else:
        _ls(api, args.project, args.type)


def _login(args: argparse.Namespace) -> None:
    from lineage.api import Api
    from lineage.config import store_key
    from lineage.errors import Unauthenticated

    key = args.key
    if not key:
        key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.readline()
    key = key.strip()
    api = Api(base_url=args.base_url, api_key=key)
    username = api.viewer()
    if username is None:
        raise Unauthenticated("that key was not accepted")
    path = store_key(api.settings.base_url, key)
    print(f"logged in to {api.settings.base_url} as {username}; key stored in {path}")


def _put(args: argparse.Namespace) -> None:
    from lineage.artifacts import Artifact
    from lineage.errors import BadInput
    from lineage.session import init

    if not args.folder.is_dir():
        raise BadInput(f"{args.folder} is not a folder")
    artifact = Artifact(args.name, args.type, description=args.description)
    artifact.add_dir(args.folder)
    with init(
        project=args.project, entity=args.entity, base_url=args.base_url, api_key=args.api_key
    ) as run:
        run.log_artifact(artifact, aliases=args.alias)
    print(artifact.qualified_path)


def _ls(api: object, project: str, type_: str | None) -> None:
    from lineage.api import Api

    assert isinstance(api, Api)
    rows = [("NAME", "TYPE", "VERSION", "ALIASES", "FILES", "SIZE", "CREATED")]
    for artifact in api.artifacts(project, type=type_):
        rows.append((
            artifact.name, artifact.type, artifact.version or "", ",".join(artifact.aliases),
            str(artifact.file_count), _human(artifact.size),
            artifact.created_at.strftime("%Y-%m-%d %H:%M") if artifact.created_at else "",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


if __name__ == "__main__":
    main()
