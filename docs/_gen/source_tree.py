"""MkDocs hook: a source tree in which ``envs/`` and ``policies/`` sit where they are installed.

The distribution maps ``envs/`` to ``vlapro_bench.envs`` and ``policies/`` to
``vlapro_bench.policies`` (``package-dir`` in pyproject.toml). mkdocstrings reads modules from
source files (griffe), and griffe only finds subpackages inside the package folder, so we give it
``build/docs-src/vlapro_bench/``: links to everything in ``vlapro_bench/`` plus the two mapped
folders. Links, not copies, so the docs always show the current code. Griffe also skips the
modules of an implicit namespace package inside a regular one (``vlapro_bench.sim`` has no
``__init__.py``), so such a folder becomes a real folder with an empty ``__init__.py`` and links
to its files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Installed name (under vlapro_bench) -> folder in the repository (pyproject's package-dir).
MAPPED_PACKAGES = {"envs": "envs", "policies": "policies"}
TREE = Path("build") / "docs-src"


def make_source_tree(root: Path) -> Path:
    """(Re)create ``root/build/docs-src/vlapro_bench`` and return ``root/build/docs-src``."""
    tree = root / TREE
    package = tree / "vlapro_bench"
    if package.exists() or package.is_symlink():
        shutil.rmtree(package)
    _link_package(root / "vlapro_bench", package)
    for name, folder in MAPPED_PACKAGES.items():
        source = (root / folder).resolve()
        if not (source / "__init__.py").is_file():
            raise FileNotFoundError(f"{source} is not a package; pyproject's package-dir maps it to "
                                    f"vlapro_bench.{name}")
        (package / name).symlink_to(source, target_is_directory=True)
    return tree


def _link_package(source: Path, target: Path) -> None:
    """Link ``source``'s entries into the new folder ``target``; namespace subfolders get an ``__init__.py``."""
    target.mkdir(parents=True)
    if not (target / "__init__.py").exists() and not (source / "__init__.py").exists():
        (target / "__init__.py").write_text("")
    for entry in source.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir() and not (entry / "__init__.py").exists() and any(entry.glob("*.py")):
            _link_package(entry, target / entry.name)
        else:
            (target / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())


def on_config(config):
    make_source_tree(Path(config.config_file_path).resolve().parent)
    return config
