"""Print pip constraints that pin each runtime requirement to its floor.

``make test-min`` installs the package against the oldest versions that
``pyproject.toml`` declares (``numpy>=X`` becomes ``numpy==X``), so the
declared floors are tested rather than assumed. ``torch`` is left out: the
caller pins it (``TORCH_SPEC``) to keep pip from resolving GPU wheels.
"""

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    from pip._vendor import tomli as tomllib

SKIP = {"torch"}
FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*$")


def main(pyproject="pyproject.toml"):
    with Path(pyproject).open("rb") as f:
        requirements = tomllib.load(f)["project"]["dependencies"]
    for requirement in requirements:
        match = FLOOR.match(requirement)
        if match is None:
            sys.exit(f"{requirement!r} declares no plain '>=' floor to pin")
        name, _, floor = match.groups()
        if name.lower() not in SKIP:
            print(f"{name}=={floor}")


if __name__ == "__main__":
    main(*sys.argv[1:])
