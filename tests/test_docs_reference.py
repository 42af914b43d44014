"""The documentation site covers the code: every CLI command, public class, task and page.

These tests run the page generators of ``docs/_gen/`` (what ``mkdocs build`` runs) without
building the site; ``scripts/build_docs.sh`` builds it with ``--strict`` and checks the HTML.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
import yaml

from vlapro_bench.cli import app
from vlapro_bench.registry import SUITES, all_specs, task_names
from vlapro_bench.splits import load_split

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GEN = DOCS / "_gen"


def _load(name: str):
    if str(GEN) not in sys.path:
        sys.path.insert(0, str(GEN))  # check_site imports gen_reference by name
    spec = importlib.util.spec_from_file_location(name, GEN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gen = _load("gen_reference")
check_site = _load("check_site")


def _nav_files(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    return []


@pytest.fixture(scope="module")
def mkdocs_config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


@pytest.fixture(scope="module")
def cli_markdown() -> str:
    return gen.cli_page(app)


def test_cli_page_documents_every_command_and_option(cli_markdown):
    paths = gen.command_paths(app)
    assert ("list",) in paths and ("memory", "build") in paths
    top = typer.main.get_command(app)
    for path in paths:
        assert f"{{ #{gen.command_anchor(path)} }}" in cli_markdown, path
        cmd = top
        for name in path:
            cmd = cmd.commands[name]
        section = cli_markdown.split(f"#{gen.command_anchor(path)} }}", 1)[1].split("\n## ", 1)[0]
        for param in cmd.params:
            if param.param_type_name == "option":
                assert f"`{param.opts[0]}" in section, (path, param.opts)


def test_cli_page_renders_options_defaults_flags_and_groups():
    toy = typer.Typer()
    group = typer.Typer(help="A group.")
    toy.add_typer(group, name="grp")

    @toy.command()
    def alpha(count: Annotated[int, typer.Option(help="How many | pipes.")] = 3, fast: bool = False,
              out: Annotated[str, typer.Option(help="Default: results/<label>.")] = "x") -> None:
        """Do alpha, into <out>."""

    @group.command()
    def beta(names: Annotated[list[str], typer.Argument(help="Names.")]) -> None:
        """Do beta."""

    assert gen.command_paths(toy) == [("alpha",), ("grp", "beta")]
    page = gen.cli_page(toy, program="toy")
    assert "## toy alpha { #vlapro-bench-alpha }" in page and "Do alpha, into &lt;out&gt;." in page
    assert "Default: results/&lt;label&gt;." in page  # not an HTML tag
    assert "| `--count` | int | `3` | How many \\| pipes. |" in page
    assert "`--fast / --no-fast` | flag | `False`" in page
    assert "## toy grp beta" in page and "| `NAMES` | str, repeatable | required | Names. |" in page
    assert "toy grp beta [OPTIONS] NAMES..." in page


def test_every_public_class_is_rendered_on_an_api_page(mkdocs_config):
    plugin = next(p["mkdocstrings"] for p in mkdocs_config["plugins"] if isinstance(p, dict) and "mkdocstrings" in p)
    options = plugin["handlers"]["python"]["options"]
    assert options["show_if_no_docstring"] is True  # a class without a docstring still gets its section
    pages = gen.api_pages()
    modules = gen.documented_modules()
    assert any(name == "vlapro_bench.env" for name, _ in modules)
    assert not any(name.startswith("vlapro_bench.envs") for name, _ in modules)  # tasks have their own pages
    classes = 0
    for name, path in modules:
        page = pages[gen.group_of(name)]
        block = page.split(f"::: {name}\n", 1)
        assert len(block) == 2, f"{name} has no mkdocstrings block"
        members = block[1].split(":::", 1)[0]
        for cls in gen.public_classes(path):
            assert f"        - {cls}\n" in members, f"{name}.{cls} is not listed"
            classes += 1
    assert classes > 50


def test_members_are_what_a_module_defines_not_what_it_imports(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("import os\nfrom x import Y\nA = 1\n_B = 2\nclass C: ...\nclass _D: ...\ndef f(): ...\n"
                      "n: int = 3\n")
    assert gen.defined_names(source) == ["A", "C", "f", "n"]
    assert gen.public_classes(source) == ["C"]


def test_a_module_no_api_page_claims_is_an_error(tmp_path):
    (tmp_path / "vlapro_bench" / "newpkg").mkdir(parents=True)
    (tmp_path / "vlapro_bench" / "__init__.py").write_text("")
    (tmp_path / "vlapro_bench" / "newpkg" / "__init__.py").write_text("")
    (tmp_path / "vlapro_bench" / "top.py").write_text("")
    assert gen.group_of("vlapro_bench.top", tmp_path) == "core"
    with pytest.raises(LookupError, match="API_GROUPS"):
        gen.group_of("vlapro_bench.newpkg.mod", tmp_path)


def test_nav_lists_every_page_and_every_nav_page_exists(mkdocs_config):
    nav = _nav_files(mkdocs_config["nav"])
    generated = {"reference/cli.md", "fidelity/tasks.md", *(f"reference/tasks/{s}.md" for s in SUITES),
                 *(f"reference/api/{key}.md" for key in [*gen.API_GROUPS, "index"])}
    written = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if "_gen" not in p.parts}
    assert set(nav) == written | generated
    assert not written & generated  # generated pages exist only in the build


def test_task_pages_cover_every_registered_task():
    for suite in SUITES:
        page = gen.task_page(suite)
        for spec in all_specs(suite):
            assert f"## {spec.name} {{ #{spec.name} }}" in page
            assert f"`{spec.gym_id}`" in page
        assert "**Success.**" in page
    assert "![click_bell](../../img/click_bell.png)" in gen.task_page("robotwin")


def test_fidelity_page_has_a_line_for_every_task_split_v1_added():
    """Issue 19: every new task says upstream's condition and ranges against ours (or, for the
    VLA-Pro paper's own tasks, what the paper says against what we chose)."""
    page = gen.fidelity_page()
    v0, v1 = load_split("robotwin", 0), load_split("robotwin", 1)
    added = (set(v1.seen) | set(v1.unseen)) - (set(v0.seen) | set(v0.unseen))
    assert len(added) >= 19  # 16 RoboTwin 2.0 tasks and the paper's three
    for task in sorted(added):
        section = page.split(f"### {task}\n", 1)[1].split("\n### ", 1)[0]
        assert "**Upstream vs ours:** no Fidelity line yet" not in section, task
        assert "(split v1)" in section, task
    glue = page.split("### place_glue_stand\n", 1)[1].split("\n### ", 1)[0]
    assert "What the paper says" in glue and "VLA-Pro paper" in glue


def test_task_docstring_sections_are_parsed():
    summary, sections = gen.docstring_sections(
        "demo: do a thing.\n\nDescription:\n    Two lines\n    of text.\nSuccess:\n    ``joint`` > 0.\n")
    assert summary == "demo: do a thing."
    assert sections == [("Description", "Two lines\nof text."), ("Success", "``joint`` > 0.")]
    assert gen._rst_to_md(":class:`~a.B` and ``c``") == "`a.B` and `c`"


def test_site_check_finds_a_missing_anchor(tmp_path):
    site = tmp_path / "site"

    def page(name: str, ids: list[str]) -> None:
        (site / name).mkdir(parents=True, exist_ok=True)
        (site / name / "index.html").write_text("".join(f'<h2 id="{i}">x</h2>' for i in ids))

    page("reference/cli", [gen.command_anchor(p) for p in gen.command_paths(app)])
    by_group: dict[str, list[str]] = {}
    for name, path in gen.documented_modules():
        by_group.setdefault(gen.group_of(name), []).extend(f"{name}.{c}" for c in gen.public_classes(path))
    for group, ids in by_group.items():
        page(f"reference/api/{group}", ids)
    for suite in SUITES:
        page(f"reference/tasks/{suite}", [s.name for s in all_specs(suite)])
    assert check_site.missing_anchors(site) == []

    page("reference/api/core", [i for i in by_group["core"] if i != "vlapro_bench.env.VLAProEnv"])
    page("reference/cli", [gen.command_anchor(p) for p in gen.command_paths(app) if p != ("memory", "build")])
    assert check_site.missing_anchors(site) == ["reference/cli: command memory build",
                                                "reference/api/core: class vlapro_bench.env.VLAProEnv"]


def test_guides_show_every_top_level_command():
    """Each command is used in a hand-written page, not only listed in the reference."""
    text = "\n".join(p.read_text() for p in DOCS.rglob("*.md") if "_gen" not in p.parts)
    for name in dict.fromkeys(path[0] for path in gen.command_paths(app)):
        assert re.search(rf"vlapro-bench {name}\b", text), f"no guide shows `vlapro-bench {name}`"


def test_fidelity_page_has_a_line_for_every_rlbench_task_after_split_v0():
    """Issue 21: every RLBench task added after split v0 (the rest of PerAct-18, AGNOSTOS) states
    RLBench's condition and thresholds against ours."""
    page = gen.fidelity_page()
    page = page[page.index(f"## {gen.SUITE_TITLES['rlbench']}\n"):]  # task names recur across suites
    v0 = load_split("rlbench", 0)
    added = sorted(set(task_names("rlbench")) - set(v0.seen) - set(v0.unseen))
    assert len(added) >= 3  # lamp_on, lamp_off, toilet_seat_down were the first
    for task in added:
        section = page.split(f"### {task}\n", 1)[1].split("\n### ", 1)[0]
        assert "**Upstream vs ours:** no Fidelity line yet" not in section, task
        assert "RLBench" in section, task
