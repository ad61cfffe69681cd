"""``save_code=True``: the running script (or the notebook's cells) as a ``code`` artifact."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lineage.runs import Run

log = logging.getLogger(__name__)


def save_running_code(run: Run) -> None:
    from lineage.artifacts import Artifact

    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    cells = _notebook_cells()
    if script and Path(script).is_file() and cells is None:
        source = Path(script)
        artifact = Artifact(f"source-{_safe(source.stem)}", "code")
        artifact.add_file(source, source.name)
    elif cells is not None:
        artifact = Artifact("source-notebook", "code")
        with artifact.new_file("notebook.py") as out:
            out.write("\n\n# %%\n".join(cells))
    else:
        log.warning("save_code: no script or notebook to save (interactive session)")
        return
    run.log_artifact(artifact)


def _notebook_cells() -> list[str] | None:
    """The cells run so far, in a Jupyter/IPython kernel; None elsewhere."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return None
    shell = ipython_module.get_ipython()
    if shell is None:
        return None
    history = shell.user_ns.get("In") or []
    return [cell for cell in history if cell]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100] or "script"
