"""Transfers: a file over 200 MB byte for byte in flat memory, resuming, the shared cache,
and progress bars on a terminal only."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lineage
from tests.client.conftest import ROOT
from tests.client.serve import ServeProcess
from tests.fixtures.service import Account, unique

BIG = 210 * 1024 * 1024

ROUND_TRIP = """
import json, sys
import lineage

source, out = sys.argv[1], sys.argv[2]
with lineage.init(project=sys.argv[3]) as run:
    artifact = lineage.Artifact("big", "dataset")
    artifact.add_file(source)
    run.log_artifact(artifact)
folder = lineage.Api().artifact(f"{sys.argv[3]}/big:latest").download(out)
# VmHWM: this process image's peak (ru_maxrss would include the forking parent's)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"peak_kib": int(status["VmHWM"].split()[0]), "folder": str(folder)}))
"""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_big(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        out.write(os.urandom(4096))  # no other test uploads this content
        written = 4096
        while written < size:
            piece = block[: min(len(block), size - written)]
            out.write(piece)
            written += len(piece)


def test_a_file_over_200_mb_round_trips_in_flat_memory(
    account: Account, run_client: Callable[..., Any], tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    write_big(source, BIG)
    script = tmp_path / "round_trip.py"
    script.write_text(textwrap.dedent(ROUND_TRIP))

    done = run_client(
        [sys.executable, str(script), str(source), str(tmp_path / "out"), unique("p")],
        account.key, tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = __import__("json").loads(done.stdout.strip().splitlines()[-1])
    copy = Path(report["folder"]) / "big.bin"
    assert copy.stat().st_size == BIG
    assert sha256_of(copy) == sha256_of(source)
    # the interpreter and its libraries take ~30 MB; 16 workers' 1 MiB chunks add little
    print(f"client peak RSS {report['peak_kib'] // 1024} MiB for a {BIG >> 20} MiB file")
    assert report["peak_kib"] * 1024 < 64 * 1024 * 1024, report


def test_an_interrupted_download_resumes_without_fetching_finished_files(
    api: lineage.Api, server: ServeProcess, account: Account, tmp_path: Path,
    client_env: dict[str, str], monkeypatch: Any,
) -> None:  # fmt: skip
    files = {f"f{index:02d}.txt": os.urandom(2000 + index) for index in range(20)}
    for name, data in files.items():
        (tmp_path / "src" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "src" / name).write_bytes(data)
    project = unique("p")
    with lineage.init(project=project, base_url=server.url, api_key=account.key) as run:
        artifact = lineage.Artifact("resume", "dataset")
        artifact.add_dir(tmp_path / "src")
        run.log_artifact(artifact)
    target = artifact.download(tmp_path / "out")

    # the state an interrupted download leaves: some files missing, one cut short,
    # a temp file; and a fresh cache, so anything fetched again shows up in it
    (target / "f03.txt").unlink()
    (target / "f11.txt").unlink()
    cut = target / "f17.txt"
    cut.chmod(0o644)
    cut.unlink()  # a hard link to the cache: replace it, do not write through it
    cut.write_bytes(files["f17.txt"][:100])
    (target / ".f05.txt.x.part").write_bytes(b"partial")
    kept = {
        n: (target / n).stat().st_ino for n in files if n not in ("f03.txt", "f11.txt", "f17.txt")
    }
    fresh_cache = tmp_path / "fresh-cache"
    monkeypatch.setenv("LINEAGE_CACHE_DIR", str(fresh_cache))

    assert api.artifact(f"{project}/resume:latest").download(target) == target

    for name, data in files.items():
        assert (target / name).read_bytes() == data, name
    for name, inode in kept.items():
        assert (target / name).stat().st_ino == inode, f"{name} was written again"
    fetched = sorted(p.name for p in fresh_cache.rglob("*") if p.is_file())
    expected = sorted(
        hashlib.sha256(files[n]).hexdigest() for n in ("f03.txt", "f11.txt", "f17.txt")
    )
    assert fetched == expected


def test_a_blob_in_the_cache_is_linked_not_fetched_again(
    api: lineage.Api, server: ServeProcess, account: Account, tmp_path: Path,
    client_env: dict[str, str],
) -> None:  # fmt: skip
    shared = os.urandom(5000)
    (tmp_path / "shared.bin").write_bytes(shared)
    (tmp_path / "other.bin").write_bytes(os.urandom(10))
    project = unique("p")
    with lineage.init(project=project, base_url=server.url, api_key=account.key) as run:
        first = lineage.Artifact("first", "dataset")
        first.add_file(tmp_path / "shared.bin")
        run.log_artifact(first)
        second = lineage.Artifact("second", "dataset")
        second.add_file(tmp_path / "shared.bin", "copy-of-shared.bin")
        second.add_file(tmp_path / "other.bin")
        run.log_artifact(second)
    one = first.download(tmp_path / "one")
    cache = Path(client_env["LINEAGE_CACHE_DIR"])
    blob = next(p for p in cache.rglob(hashlib.sha256(shared).hexdigest()))

    two = second.download(tmp_path / "two")

    assert (two / "copy-of-shared.bin").read_bytes() == shared
    # the same file on disk: linked from the cache, not downloaded into a new one
    assert (two / "copy-of-shared.bin").stat().st_ino == blob.stat().st_ino
    assert (one / "shared.bin").stat().st_ino == blob.stat().st_ino

    # a cached copy edited behind the client's back is not trusted: fetched again
    blob.chmod(0o644)
    blob.write_bytes(b"tampered")
    three = first.download(tmp_path / "three")
    assert (three / "shared.bin").read_bytes() == shared


PROGRESS = """
import sys
import lineage
with lineage.init(project=sys.argv[1]) as run:
    artifact = lineage.Artifact("bars", "dataset")
    artifact.add_dir(sys.argv[2])
    run.log_artifact(artifact)
artifact.download(sys.argv[3])
print("done")
"""


def run_on_pty(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal, as in a user's shell."""
    controller, terminal = pty.openpty()
    # a fresh pty is 0x0; a user's terminal has a size (tqdm draws to fit it)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(args, stdout=terminal, stderr=terminal, env=env, cwd=cwd)
    os.close(terminal)
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    return process.wait(timeout=60), output.decode(errors="replace")


def test_progress_bars_show_on_a_terminal_and_not_when_silent_or_piped(
    server: ServeProcess, account: Account, tmp_path: Path, client_env: dict[str, str],
    run_client: Callable[..., Any],
) -> None:  # fmt: skip
    (tmp_path / "data").mkdir()
    for index in range(5):
        (tmp_path / "data" / f"{index}.bin").write_bytes(os.urandom(300_000))
    script = tmp_path / "progress.py"
    script.write_text(textwrap.dedent(PROGRESS))
    env = {**os.environ, **client_env, "LINEAGE_BASE_URL": server.url,
           "LINEAGE_API_KEY": account.key, "PYTHONPATH": str(ROOT)}  # fmt: skip
    env.pop("LINEAGE_SILENT")

    def args(label: str) -> list[str]:
        return [
            sys.executable,
            str(script),
            unique("p"),
            str(tmp_path / "data"),
            str(tmp_path / label),
        ]

    code, shown = run_on_pty(args("tty"), env, tmp_path)
    assert code == 0, shown
    assert "uploading bars (5 files)" in shown
    assert "downloading bars:v0 (5 files)" in shown
    assert "100%" in shown

    code, silent = run_on_pty(args("silent"), {**env, "LINEAGE_SILENT": "1"}, tmp_path)
    assert code == 0, silent
    assert silent.strip() == "done"

    piped = run_client(args("piped"), account.key, tmp_path, {"LINEAGE_SILENT": "0"})
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert piped.stdout.strip() == "done"
