"""The minimum versions pyproject.toml declares are the ones CI tests against.

.ci/run installs .ci/minimum-versions.txt as constraints and runs the suite a second
time, so a declared minimum is proven to work; this test keeps the two files equal, so a
minimum raised or added in one place cannot drift away from what is tested.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def declared_minimums() -> dict[str, Version]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # what the service and its tests run on; the dev extra's lint and typing tools are
    # held to one minor version in pyproject.toml itself
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    minimums = {}
    for text in requirements:
        requirement = Requirement(text)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert lower, f"{text}: declare a minimum version (>=) so CI can test it"
        minimums[_name(requirement.name)] = Version(lower[0])
    return minimums


def pinned() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / ".ci" / "minimum-versions.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[_name(name)] = Version(version)
    return pins


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_minimum_is_pinned_in_the_ci_constraints() -> None:
    assert declared_minimums() == pinned()
