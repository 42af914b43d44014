"""The tutorial notebooks are valid, stripped, and switch to small settings for CI.

Executing them is ``scripts/run_tutorials.sh`` (minutes); these checks take a second.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "tutorials").glob("*.ipynb"))
NAMES = [p.name for p in NOTEBOOKS]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _parameters(nb: nbformat.NotebookNode, small: str, monkeypatch) -> dict:
    """Run the parameter cell alone with VLAPRO_TUTORIAL_SMALL set; return its variables."""
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    monkeypatch.setenv("VLAPRO_TUTORIAL_SMALL", small)
    namespace: dict = {}
    exec(compile(cell.source, "<parameters>", "exec"), namespace)  # noqa: S102  (our own notebook cell)
    return {k: v for k, v in namespace.items() if k.isupper()}


def test_the_three_tutorials_exist_and_the_docs_list_them():
    assert NAMES == ["01_first_evaluation.ipynb", "02_backbone_and_memories.ipynb", "03_new_task_and_split.ipynb"]
    page = (ROOT / "docs" / "tutorials.md").read_text()
    for name in NAMES:
        assert f"tutorials/{name}" in page


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_is_valid_and_stripped(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "strip outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_every_code_cell_is_valid_python(path):
    for i, cell in enumerate(_read(path).cells):
        if cell.cell_type == "code":
            assert not any(line.lstrip().startswith(("!", "%")) for line in cell.source.splitlines()), \
                f"cell {i}: shell escapes and magics hide failures from nbclient; use subprocess"
            ast.parse(cell.source, filename=f"{path.name} cell {i}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_small_settings_shrink_the_work(path, monkeypatch):
    nb = _read(path)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", []), "the first code cell holds the parameters"
    small = _parameters(nb, "1", monkeypatch)
    full = _parameters(nb, "0", monkeypatch)
    assert small["SMALL"] is True and full["SMALL"] is False
    sizes = [k for k, v in full.items() if isinstance(v, int | tuple) and not isinstance(v, bool) and k != "SMALL"]
    assert sizes, "no size parameters"
    shrunk = [k for k in sizes if small[k] != full[k]]
    assert shrunk, "VLAPRO_TUTORIAL_SMALL=1 changes nothing"
    for key in sizes:
        a, b = (small[key], full[key]) if isinstance(full[key], tuple) else ((small[key],), (full[key],))
        if all(isinstance(x, int) for x in (*a, *b)):
            assert all(x <= y for x, y in zip(a, b)), f"{key}: small {small[key]} exceeds {full[key]}"
    assert small.get("EPISODES", 0) <= 2, "CI plays at most 2 episodes per policy and task"
    assert str(small["WORK"]).startswith(("runs", "/")), "the notebook writes under its WORK folder"
