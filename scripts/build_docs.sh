#!/usr/bin/env bash
# Build the documentation site (MkDocs + Material) with --strict, then check that every CLI
# command, public class and task has its section. Needs the `docs` extra (and the package):
#   pip install -e ".[docs]"
# Output: build/site/ (open build/site/index.html). PYTHON picks the interpreter
# (default: .venv/bin/python when it exists, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export MUJOCO_GL="${MUJOCO_GL:-egl}"
# MkDocs 1.x plugins print a banner about MkDocs 2; it is noise in CI logs.
export NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true
# mkdocstrings drops search paths that do not exist when the config loads, before the hook
# (docs/_gen/source_tree.py) links the source tree there; on a fresh checkout it would then
# read the installed package, where vlapro_bench.policies is not a folder. Create it first.
mkdir -p build/docs-src
"$PY" -m mkdocs build --strict "$@"
"$PY" docs/_gen/check_site.py build/site
