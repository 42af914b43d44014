"""Check a built site: every CLI command and every public class has its own section.

``mkdocs build --strict`` proves the pages build; this proves they are complete. It reads the
built HTML for the anchors the generators promise: ``vlapro-bench-<command>`` on the CLI page,
``<module>.<Class>`` (mkdocstrings' ids) on the API pages, ``<task>`` on the task pages.
Run by ``scripts/build_docs.sh``: ``python docs/_gen/check_site.py build/site``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_reference as gen  # noqa: E402


def _page(site: Path, name: str) -> str:
    path = site / name / "index.html"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: was the site built with mkdocs build?")
    return path.read_text(encoding="utf-8")


def missing_anchors(site: Path) -> list[str]:
    """Every promised anchor that the built site lacks, as 'page: anchor' lines."""
    from vlapro_bench.cli import app  # noqa: PLC0415
    from vlapro_bench.registry import SUITES, all_specs  # noqa: PLC0415

    problems: list[str] = []
    cli = _page(site, "reference/cli")
    problems += [f"reference/cli: command {' '.join(path)}" for path in gen.command_paths(app)
                 if f'id="{gen.command_anchor(path)}"' not in cli]
    pages: dict[str, str] = {}
    for module, path in gen.documented_modules():
        group = gen.group_of(module)
        html = pages.setdefault(group, _page(site, f"reference/api/{group}"))
        problems += [f"reference/api/{group}: class {module}.{cls}" for cls in gen.public_classes(path)
                     if f'id="{module}.{cls}"' not in html]
    for suite in SUITES:
        html = _page(site, f"reference/tasks/{suite}")
        problems += [f"reference/tasks/{suite}: task {spec.name}" for spec in all_specs(suite)
                     if f'id="{spec.name}"' not in html]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site folder (mkdocs.yml's site_dir)")
    problems = missing_anchors(parser.parse_args().site)
    for problem in problems:
        print(f"undocumented: {problem}", file=sys.stderr)
    print(f"site check: {len(problems)} missing")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
