#!/usr/bin/env bash
# Do the lowest versions that pyproject.toml allows really work? Builds a fresh virtualenv at the floors,
# checks that every direct dependency imports there, then runs the whole test suite in it. A failure means
# a floor is too low for what the code uses: raise that floor, or make the code work with it. Two kinds:
#
#   dev     .[dev], every extra, resolved with the lowest versions of the direct dependencies that install
#           together (uv's lowest-direct). py5, pinned for the tests, needs a newer NumPy than the core
#           floor, so NumPy and what is built against it come out above their floors here.
#   exact   every direct dependency pinned to exactly its floor (">=X" becomes "==X"), NumPy included;
#           the live-tests extra (py5 and Playwright) is left out, so the tests that need it skip.
#
# Not run by CI: it downloads a few GB (torch from PyPI is a CUDA build) and each suite run takes about
# ten minutes on two cores.
#
#   benchmarks/check_floors.sh [dev|exact|both] [pytest arguments]   (default: both, -q -x -rs)
#   RNNLAB_DATA as for the suite; PYTHON=python3.11 picks the interpreter (requires-python's lowest).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-both}
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then set -- -q -x -rs; fi

floors() {   # $1 venv, $2 kind: writes floors.txt (name==floor for every direct dependency, markers kept)
  # and wants.txt (what to install) in the venv
  "$1/bin/python" - "$1" "$2" <<'EOF'
import os
import sys
import tomllib

from pip._vendor.packaging.requirements import Requirement

venv, kind = sys.argv[1:]
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
if kind == "dev":
    wants = ["-e .[dev]"]
else:                                 # every extra but live-tests, and the dev extra's own tools
    extras = {name: reqs for name, reqs in extras.items() if name != "live-tests"}
    tools = [r for r in extras.pop("dev") if not r.startswith(project["name"] + "[")]
    wants = [f"-e .[{','.join(extras)}]", *tools]
    extras["dev"] = tools
if os.path.exists("models/pyproject.toml"):
    wants.append("./models")                               # the shipped models, as CI installs them
pins = []
for line in [*project["dependencies"], *(r for reqs in extras.values() for r in reqs)]:
    req = Requirement(line)
    if req.name == project["name"]:
        continue                                           # rnnlab[ja] and the like: the extras themselves
    floors = [s.version for s in req.specifier if s.operator in (">=", "==", "~=")]
    if not floors:
        sys.exit(f"check_floors: {line!r} declares no floor")
    pins.append(f"{req.name}=={max(floors)}" + (f"; {req.marker}" if req.marker else ""))
open(f"{venv}/floors.txt", "w").write("\n".join(pins) + "\n")
open(f"{venv}/wants.txt", "w").write("\n".join(wants) + "\n")
EOF
}

check() {   # $1 venv, $2 kind, then pytest's arguments
  local venv=$1 kind=$2
  shift 2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install -q uv
  floors "$venv" "$kind"
  if [ "$kind" = dev ]; then
    "$venv/bin/uv" pip install -q --python "$venv/bin/python" --resolution lowest-direct -r "$venv/wants.txt"
  else
    "$venv/bin/uv" pip install -q --python "$venv/bin/python" --constraint "$venv/floors.txt" -r "$venv/wants.txt"
  fi
  echo "check_floors ($kind): the direct dependencies as installed (floors: $(cut -d';' -f1 "$venv/floors.txt" | paste -sd' '))"
  "$venv/bin/python" -m pip list 2>/dev/null | grep -iE "^($(cut -d'=' -f1 "$venv/floors.txt" | paste -sd'|')) " | sed 's/^/  /'
  # each direct dependency imports (the suite's importorskip would turn a broken one into skips)
  "$venv/bin/python" - "$venv/floors.txt" <<'EOF'
import importlib
import importlib.metadata as md
import re
import sys

modules = {}
for module, dists in md.packages_distributions().items():
    for dist in dists:
        modules.setdefault(re.sub(r"[-_.]+", "-", dist).lower(), []).append(module)
failed = []
for line in open(sys.argv[1]):
    name = re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
    if name == "py5":
        continue                                           # importing py5 starts a JVM: its tests find its jar
    for module in modules.get(name, []):
        if module.startswith("_") or not module.isidentifier():
            continue
        try:
            importlib.import_module(module)
        except Exception as err:
            failed.append(f"{name}: import {module}: {type(err).__name__}: {(str(err) or '?').splitlines()[0]}")
print("\n".join(failed) or "check_floors: every direct dependency imports")
sys.exit(1 if failed else 0)
EOF
  [ -n "${CHECK_FLOORS_NO_TESTS:-}" ] || "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
}

case $kind in
  dev) check .venv-floor dev "$@" ;;
  exact) check .venv-floor-exact exact "$@" ;;
  both) check .venv-floor dev "$@"; check .venv-floor-exact exact "$@" ;;
  *) echo "usage: $0 [dev|exact|both] [pytest arguments]" >&2; exit 2 ;;
esac
