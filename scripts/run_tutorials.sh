#!/usr/bin/env bash
# Execute the tutorial notebooks (tutorials/*.ipynb) with nbclient; fail on the first error.
# Small settings by default (VLAPRO_TUTORIAL_SMALL=1, as CI runs them); VLAPRO_TUTORIAL_SMALL=0
# runs the laptop settings. Needs the learn and docs extras: pip install -e ".[learn,docs]".
# Usage: bash scripts/run_tutorials.sh [NOTEBOOK ...]   (default: all of tutorials/)
# Executed copies, with their outputs, go to build/tutorials/; the notebooks' working files to
# build/tutorials/runs/. PYTHON picks the interpreter (default: .venv/bin/python if present).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
# The kernel is started as "python" from PATH: make that the same interpreter.
PY_BIN="$(cd "$(dirname "$(command -v "$PY")")" && pwd)"
export PATH="$PY_BIN:$PATH"
export VLAPRO_TUTORIAL_SMALL="${VLAPRO_TUTORIAL_SMALL:-1}"
export VLAPRO_TUTORIAL_DIR="${VLAPRO_TUTORIAL_DIR:-$PWD/build/tutorials/runs}"
export MUJOCO_GL="${MUJOCO_GL:-egl}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}" \
  OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
if [ "$#" -eq 0 ]; then set -- tutorials/*.ipynb; fi
"$PY" - "$@" <<'PY'
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

out_dir = Path("build/tutorials")
out_dir.mkdir(parents=True, exist_ok=True)
failed = []
for name in sys.argv[1:]:
    path = Path(name)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except CellExecutionError as exc:
        status = "FAILED"
        failed.append(path.name)
        print(exc, file=sys.stderr)
    finally:
        nbformat.write(nb, out_dir / path.name)
    print(f"{path.name}: {status} in {time.perf_counter() - start:.0f} s (executed copy: {out_dir / path.name})",
          flush=True)
if failed:
    sys.exit(f"tutorials failed: {', '.join(failed)}")
PY
