"""``lineage.init`` and the current run that module-level functions act on."""

from __future__ import annotations

import atexit
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lineage import queries
from lineage.api import Api
from lineage.errors import BadInput

if TYPE_CHECKING:
    from lineage.artifacts import Artifact
    from lineage.runs import Run

RESUME_MODES = {None: "NEVER", "never": "NEVER", "allow": "ALLOW", "must": "MUST"}

_current: Run | None = None
_lock = threading.Lock()
_failed = False  # an uncaught exception ended the program


def init(
    project: str,
    entity: str | None = None,
    id: str | None = None,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    resume: str | None = None,
    sweep: str | None = None,
    save_code: bool = False,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
) -> Run:
    """Start (or, with ``resume="allow"``/``"must"``, resume) a run and make it current.

    ``resume=None``/``"never"`` refuses an existing ``id`` (CONFLICT); ``"allow"``
    resumes or creates; ``"must"`` resumes only. Use it as a context manager, or call
    ``run.finish()``; a run still current at exit is finished then (FAILED after an
    uncaught exception)."""
    from lineage.runs import Run

    if resume not in RESUME_MODES:
        raise BadInput(f"resume must be None, 'allow', 'must' or 'never', not {resume!r}")
    api = Api(base_url=base_url, api_key=api_key, entity=entity)
    run_input = {
        "entity": entity or api.settings.entity,
        "project": project,
        "runId": id,
        "name": name,
        "config": config,
        "sweep": sweep,
        "resume": RESUME_MODES[resume],
    }
    data = api.graphql(queries.UPSERT_RUN, {"input": run_input})["upsertRun"]
    run = Run(api, data)
    _make_current(run)
    _finish_current_at_exit()
    if save_code:
        from lineage.code import save_running_code

        save_running_code(run)
    return run


def _make_current(run: Run) -> None:
    global _current
    with _lock:
        _current = run


def forget(run: Run) -> None:
    """``run`` finished: it is no longer the current run."""
    global _current
    with _lock:
        if _current is run:
            _current = None


def current_run() -> Run:
    with _lock:
        run = _current
    if run is None:
        raise BadInput("no current run: call lineage.init(project=...) first")
    return run


def log_artifact(artifact: Artifact, aliases: list[str] | None = None) -> Artifact:
    """``log_artifact`` on the current run."""
    return current_run().log_artifact(artifact, aliases=aliases)


def use_artifact(artifact: str | Artifact) -> Artifact:
    """``use_artifact`` on the current run."""
    return current_run().use_artifact(artifact)


def finish() -> None:
    """Finish the current run, if any."""
    with _lock:
        run = _current
    if run is not None:
        run.finish()


def _note_failure(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    global _failed
    _failed = True
    _previous_hook(kind, value, traceback)


def _finish_at_exit() -> None:
    with _lock:
        run = _current
    if run is not None:
        try:
            run.finish("FAILED" if _failed else "FINISHED")
        except Exception as exc:  # noqa: BLE001 - the program is ending anyway
            print(f"lineage: could not finish run {run.path}: {exc}", file=sys.stderr)


_exit_hooks_set = False


def _finish_current_at_exit() -> None:
    """Registered once a run exists, after the HTTP client it uses: exit handlers run in
    reverse, so the run is finished before that client is closed."""
    global _exit_hooks_set, _previous_hook
    with _lock:
        if _exit_hooks_set:
            return
        _exit_hooks_set = True
    _previous_hook = sys.excepthook
    sys.excepthook = _note_failure
    atexit.register(_finish_at_exit)


_previous_hook = sys.excepthook
