"""Check that the installed packages satisfy pyproject.toml (run after installing the lock).

`pip install --require-hashes -r requirements/test.lock` installs exactly what the lock
names; if someone adds or raises a requirement in pyproject.toml without refreshing the
lock (`bash scripts/lock`), this says so by name instead of failing later in a test.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def main() -> int:
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        *project["build-system"]["requires"],
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["test"],
    ]
    problems = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement.name} is not installed (pyproject wants {line!r})")
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version} does not satisfy {line!r}")
    for problem in problems:
        print(f"lock out of date: {problem}", file=sys.stderr)
    if problems:
        print("Refresh it with `bash scripts/lock` and commit requirements/.", file=sys.stderr)
        return 1
    print(f"lock OK: {len(wanted)} requirements of pyproject.toml satisfied")
    return 0


if __name__ == "__main__":
    sys.exit(main())
