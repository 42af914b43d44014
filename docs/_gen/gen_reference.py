"""Generate the reference pages from the code, so they cannot drift from it.

Run by mkdocs-gen-files at build time (``mkdocs.yml``); the pages exist only in the built site:

- ``reference/cli.md``: every command of the ``vlapro-bench`` Typer app, with its arguments and
  options, walked from the app itself;
- ``reference/tasks/<suite>.md``: every registered task, with its spec, split membership,
  transfer sources, picture and its module docstring (the Gymnasium-style sections);
- ``fidelity/tasks.md``: per task, our success condition beside the docstring's *Fidelity* line
  (upstream's condition and ranges against ours);
- ``reference/api/<group>.md``: a mkdocstrings block per public module, listing the names the
  module itself defines (not the ones it imports), so every public class is rendered once.

The functions are also imported by ``tests/test_docs_*.py`` and ``docs/_gen/check_site.py``.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Installed package name -> folder in the repository (pyproject's ``package-dir``).
PACKAGE_DIRS = {"vlapro_bench": "vlapro_bench", "vlapro_bench.envs": "envs", "vlapro_bench.policies": "policies"}
#: Modules documented elsewhere: tasks have their own pages (reference/tasks/).
EXCLUDED_PREFIXES = ("vlapro_bench.envs",)


@dataclass(frozen=True)
class ApiGroup:
    """One API page: a title, a sentence on what the modules are for, and which modules."""

    title: str
    intro: str
    prefixes: tuple[str, ...]  # subpackages (vlapro_bench.<name>); "" marks the top-level modules


#: API pages, in the order of the site's navigation (mkdocs.yml lists the same pages).
API_GROUPS: dict[str, ApiGroup] = {
    "core": ApiGroup(
        "Environments and registries",
        "The Gymnasium environment, the task and policy contracts, the registries, splits, layout redraws, "
        "demonstration collection (``vlapro_bench.collection``), observation wrappers for RL libraries "
        "(``vlapro_bench.wrappers``) and the CLI "
        "(the ``vlapro_bench.cli`` package: the app, its shared options and its error boundary).",
        ("", "vlapro_bench.cli")),
    "sim": ApiGroup(
        "Simulation engine",
        "The embedded MuJoCo engine: robots, scene builders, props, IK, motions and skills that tasks are built from.",
        ("vlapro_bench.sim",)),
    "policies": ApiGroup(
        "Policies and backbones",
        "The policy zoo (installed as ``vlapro_bench.policies``): random, expert, replay, tinyvla, the LeRobot "
        "bridge and VLA-Pro.",
        ("vlapro_bench.policies",)),
    "datasets": ApiGroup(
        "Demonstration datasets",
        "Recording and reading demonstrations in the LeRobotDataset v3.0 layout.",
        ("vlapro_bench.datasets",)),
    "training": ApiGroup(
        "Training",
        "Seeded, resumable backbone training with safetensors + JSON checkpoints.",
        ("vlapro_bench.training",)),
    "memory": ApiGroup(
        "Procedural memory",
        "VLA-Pro's memory: task LoRAs, procedural-state keys, retrieval, exact per-chunk fusion, the bank on disk.",
        ("vlapro_bench.memory",)),
    "evaluation": ApiGroup(
        "Evaluation",
        "Protocols, the resumable runner, per-episode records, statistics and reports.",
        ("vlapro_bench.evaluation",)),
    "leaderboard": ApiGroup(
        "Leaderboards",
        "Entries, their validation (untrusted input), rendering and verification.",
        ("vlapro_bench.leaderboard",)),
    "reproduce": ApiGroup(
        "Reproduction",
        "The paper's experiment in one command: profiles, cached stages, the side-by-side report.",
        ("vlapro_bench.reproduce",)),
    "backends": ApiGroup(
        "Upstream backends",
        "Adapters that run the task names on a user's RoboTwin 2.0 or RLBench install.",
        ("vlapro_bench.backends",)),
}

#: Where each suite's task pictures are (docs/img/..., made by scripts/render_task_gallery.py).
IMAGE_FOLDERS = {"robotwin": "img", "rlbench": "img/rlbench"}
SUITE_TITLES = {"robotwin": "RoboTwin", "rlbench": "RLBench"}


# -- modules ---------------------------------------------------------------------------------
def package_folder(package: str, root: Path = ROOT) -> Path:
    return root / PACKAGE_DIRS[package]


def iter_modules(root: Path = ROOT) -> Iterator[tuple[str, Path]]:
    """Every public module of the distribution as (dotted name, file), without importing any.

    Private modules (``_name.py``) and private subpackages are skipped; ``__init__.py`` stands
    for its package.
    """
    mapped = {folder: name for name, folder in PACKAGE_DIRS.items()}

    def walk(name: str, folder: Path) -> Iterator[tuple[str, Path]]:
        if (folder / "__init__.py").is_file():  # else an implicit namespace package (vlapro_bench.sim)
            yield name, folder / "__init__.py"
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(("_", ".")):
                continue
            if entry.is_dir() and _is_package(entry):
                yield from walk(f"{name}.{entry.name}", entry)
            elif entry.suffix == ".py":
                yield f"{name}.{entry.stem}", entry

    for folder, name in mapped.items():
        yield from walk(name, root / folder)


def _is_package(folder: Path) -> bool:
    """A regular package, or a folder of modules (an implicit namespace package)."""
    return (folder / "__init__.py").is_file() or any(folder.glob("*.py"))


def documented_modules(root: Path = ROOT) -> list[tuple[str, Path]]:
    return sorted((name, path) for name, path in iter_modules(root)
                  if not any(name == p or name.startswith(p + ".") for p in EXCLUDED_PREFIXES))


def group_of(module: str, root: Path = ROOT) -> str:
    """The API page a module belongs to; raises for a module no page claims."""
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] not in _subpackages(root)):
        prefix = ""  # the package itself and its top-level modules
    else:
        prefix = ".".join(parts[:2])
    for key, group in API_GROUPS.items():
        if prefix in group.prefixes:
            return key
    raise LookupError(f"module {module} belongs to no API page: add {prefix} to API_GROUPS in "
                      "docs/_gen/gen_reference.py and its page to the nav in mkdocs.yml")


def _subpackages(root: Path = ROOT) -> set[str]:
    """Names of the subpackages directly under vlapro_bench (mapped ones included)."""
    names = {n.split(".")[1] for n in PACKAGE_DIRS if n.count(".") == 1}
    folder = package_folder("vlapro_bench", root)
    names |= {p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_") and _is_package(p)}
    return names


def defined_names(path: Path) -> list[str]:
    """Public names a module defines at top level (classes, functions, assignments), in order.

    Imported names are left out: they are documented where they are defined.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            found = [node.name]
        elif isinstance(node, ast.Assign):
            found = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found = [node.target.id]
        else:
            found = []
        names += [n for n in found if not n.startswith("_") and n not in names]
    return names


def public_classes(path: Path) -> list[str]:
    """Public classes a module defines at top level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")]


def api_pages(root: Path = ROOT) -> dict[str, str]:
    """``reference/api/<group>.md`` contents (plus ``index``), one mkdocstrings block per module."""
    by_group: dict[str, list[tuple[str, Path]]] = {key: [] for key in API_GROUPS}
    for name, path in documented_modules(root):
        by_group[group_of(name, root)].append((name, path))
    pages: dict[str, str] = {}
    for key, modules in by_group.items():
        group = API_GROUPS[key]
        lines = [f"# {group.title}", "", _rst_to_md(group.intro), ""]
        for name, path in modules:
            members = defined_names(path)
            lines.append(f"::: {name}")
            lines.append("    options:")
            lines.append("      members:" + ("" if members else " false"))
            lines += [f"        - {member}" for member in members]
            lines.append("")
        pages[key] = "\n".join(lines)
    index = ["# API reference", "",
             "Generated from the docstrings. Every public module has a section; each lists the classes, functions "
             "and constants the module defines.", "", "| Page | Modules |", "|---|---|"]
    for key, modules in by_group.items():
        listed = ", ".join(f"`{name}`" for name, _ in modules)
        index.append(f"| [{API_GROUPS[key].title}]({key}.md) | {listed} |")
    pages["index"] = "\n".join(index) + "\n"
    return pages


# -- command line ------------------------------------------------------------------------------
def command_paths(app) -> list[tuple[str, ...]]:
    """Every command path of a Typer app, e.g. ``("list",)``, ``("memory", "build")``.

    Duck-typed (``commands`` marks a group): Typer may ship its own copy of Click.
    """
    import typer  # noqa: PLC0415

    def walk(cmd, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if hasattr(cmd, "commands"):
            for name in cmd.commands:  # in the order the app adds them
                yield from walk(cmd.commands[name], (*prefix, name))
        else:
            yield prefix

    return list(walk(typer.main.get_command(app), ()))


def command_anchor(path: tuple[str, ...]) -> str:
    return "-".join(("vlapro-bench", *path))


def _escape(text: str) -> str:
    """Help text as Markdown text: ``<label>`` must not become an HTML tag."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: object) -> str:
    return _escape(" ".join(str(text).split())).replace("|", "\\|")


def _param_kind(param, ctx) -> str:
    """The value type as Click names it (``text``, ``integer``), or as Typer's own Click does."""
    kind = getattr(getattr(param, "type", None), "name", None)
    if kind is None:
        bare = getattr(param, "bare_type", None)
        try:
            kind = bare() if callable(bare) else None
        except TypeError:
            kind = bare(ctx)
    return re.sub(r"^list\[(.*)\]$", r"\1", str(kind or ""))  # a repeatable option says so itself


def _param_row(param, ctx) -> str:
    is_option = param.param_type_name == "option"
    if is_option:
        names = " / ".join(", ".join(group) for group in (param.opts, param.secondary_opts) if group)
        kind = "flag" if getattr(param, "is_flag", False) else _param_kind(param, ctx)
    else:
        names = param.name.upper()
        kind = _param_kind(param, ctx)
    if getattr(param, "multiple", False) or (not is_option and param.nargs == -1):
        kind += ", repeatable"
    if param.required:
        default = "required"
    elif param.default is None or param.default == () or callable(param.default):
        default = ""
    else:
        default = f"`{param.default}`"
    return f"| `{_cell(names)}` | {_cell(kind)} | {default} | {_cell(getattr(param, 'help', '') or '')} |"


def _usage_piece(piece: str) -> str:
    """Argument names upper-case, as ``--help`` shows them: ``{tasks}...`` -> ``TASKS...``."""
    piece = re.sub(r"(?<=[{\[])\w+(?=[}\]])", lambda m: m.group(0).upper(), piece)
    return piece.replace("{", "").replace("}", "")


def cli_page(app, program: str = "vlapro-bench") -> str:
    """Markdown for every command of ``app``: usage, help text, arguments and options."""
    import typer  # noqa: PLC0415

    top = typer.main.get_command(app)
    lines = ["# Command line", "",
             f"`{program} --help` lists the commands and `{program} COMMAND --help` explains one. This page is "
             "generated from the command-line app itself.", ""]
    for path in command_paths(app):
        ctx = top.context_class(top, info_name=program)
        cmd = top
        for name in path:
            cmd = cmd.commands[name]
            ctx = cmd.context_class(cmd, info_name=name, parent=ctx)
        usage = " ".join([program, *path, *map(_usage_piece, cmd.collect_usage_pieces(ctx))])
        lines += [f"## {program} {' '.join(path)} {{ #{command_anchor(path)} }}", "",
                  _escape(inspect.cleandoc(cmd.help or "").replace("\b\n", "")), "", "```text", usage, "```", ""]
        params = [p for p in cmd.params if p.name != "help"]
        if params:
            lines += ["| Argument / option | Type | Default | What |", "|---|---|---|---|"]
            lines += [_param_row(p, ctx) for p in params]
            lines.append("")
    return "\n".join(lines)


# -- tasks -----------------------------------------------------------------------------------
_SECTION = re.compile(r"^([A-Z][A-Za-z /]+):\s*$")


def _rst_to_md(text: str) -> str:
    """Docstring markup to Markdown: ``code`` to `code`, :role:`x` to `x`."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def docstring_sections(doc: str) -> tuple[str, list[tuple[str, str]]]:
    """A task module docstring as (summary, [(section, body)]) (Gymnasium-style sections)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary = lines[0] if lines else ""
    sections: list[tuple[str, list[str]]] = []
    for line in lines[1:]:
        match = _SECTION.match(line)
        if match:
            sections.append((match.group(1), []))
        elif sections:
            sections[-1][1].append(line)
    return summary, [(title, textwrap.dedent("\n".join(body)).strip()) for title, body in sections]


def task_page(suite: str, docs_dir: Path = ROOT / "docs") -> str:
    """Markdown for every registered task of ``suite``: table, then one section per task."""
    from vlapro_bench.registry import all_specs, get_task_class  # noqa: PLC0415
    from vlapro_bench.splits import load_split  # noqa: PLC0415

    title = SUITE_TITLES[suite]
    split = load_split(suite)
    specs = all_specs(suite)

    def membership(name: str) -> str:
        return "seen" if name in split.seen else "unseen" if name in split.unseen else "not in a split"

    lines = [f"# {title} tasks", "",
             f"Every task registered in the {title} suite (generated from the task registry). Split "
             f"v{split.version}: {len(split.seen)} seen, {len(split.unseen)} unseen tasks. "
             "The procedure columns are the task-level labels VLA-Pro retrieves on.", "",
             "| Task | Split | Action | Geometry | Orientation | Interaction point | Steps | Id |",
             "|---|---|---|---|---|---|---|---|"]
    for spec in specs:
        p = spec.procedure
        lines.append(f"| [`{spec.name}`](#{spec.name}) | {membership(spec.name)} | {p.action_type} | "
                     f"{p.object_geometry} | {p.ee_orientation} | {p.interaction_point} | "
                     f"{spec.max_episode_steps} | `{spec.gym_id}` |")
    lines.append("")
    for spec in specs:
        cls = get_task_class(suite, spec.name)
        module = inspect.getmodule(cls)
        summary, sections = docstring_sections(module.__doc__ if module else cls.__doc__)
        summary = summary.split(":", 1)[-1].strip()
        lines += [f"## {spec.name} {{ #{spec.name} }}", "", _rst_to_md(summary[:1].upper() + summary[1:]), ""]
        image = f"{IMAGE_FOLDERS[suite]}/{spec.name}.png"
        if (docs_dir / image).is_file():
            lines += [f"![{spec.name}](../../{image})", ""]
        link = split.transfer.get(spec.name)
        facts = [f"- **Id:** `{spec.gym_id}`; class `{cls.__module__}.{cls.__name__}`",
                 f"- **Split:** {membership(spec.name)} (v{split.version})",
                 f"- **Step limit:** {spec.max_episode_steps} control steps",
                 f"- **Instructions:** {len(cls.instructions['seen'])} seen, "
                 f"{len(cls.instructions['unseen'])} unseen templates"]
        if link is not None:
            facts.append(f"- **Transfer from:** {', '.join(f'`{s}`' for s in link.sources)} "
                         f"(shares {', '.join(link.shared)}){': ' + link.note if link.note else ''}")
        lines += [*facts, ""]
        for section, body in sections:
            lines += [f"**{section}.** " + _rst_to_md(body), ""]
    return "\n".join(lines)


def split_of(suite: str, task: str) -> str:
    """``seen``/``unseen`` in the oldest of the suite's own split files that has ``task`` (with its
    version when not 0); else its side on each named split line (``seen (split zw7 v0), ...``)."""
    from vlapro_bench.splits import task_placement  # noqa: PLC0415

    where = task_placement(suite, task)
    if where.first_version is not None:
        which = where.first_side
        return which if where.first_version == 0 else f"{which} (split v{where.first_version})"
    return ", ".join(f"{side} (split {line} v{version})" for line, version, side in where.lines) or "not in a split"


def fidelity_parts(doc: str) -> tuple[str, str]:
    """(our success condition, the Fidelity paragraph) from a task module's docstring; "" if absent."""
    _, sections = docstring_sections(doc)
    success = dict(sections).get("Success", "")
    ours, _, fidelity = success.partition("Fidelity:")
    if not fidelity and "What the paper says:" in success:  # the VLA-Pro paper's tasks: no upstream code
        ours, marker, rest = success.partition("What the paper says:")
        fidelity = marker + rest
    return " ".join(ours.split()), " ".join(fidelity.split())


def fidelity_page() -> str:
    """Markdown: for every task, where it comes from, our success condition and how it differs upstream."""
    from vlapro_bench.registry import SUITES, all_specs, get_task_class  # noqa: PLC0415

    lines = ["# Task by task: upstream against ours", "",
             "Generated from each task's docstring. *Ours* is the success condition the embedded task checks; "
             "*upstream vs ours* is the task's Fidelity line: the upstream benchmark's condition and ranges, "
             "and where ours differs and why. Tasks written before the Fidelity line was required say so; "
             "their reference pages describe them in full.", ""]
    for suite in SUITES:
        lines += [f"## {SUITE_TITLES[suite]}", ""]
        for spec in all_specs(suite):
            cls = get_task_class(suite, spec.name)
            module = inspect.getmodule(cls)
            ours, fidelity = fidelity_parts(module.__doc__ if module else cls.__doc__ or "")
            lines += [f"### {spec.name}", "",
                      f"*{spec.origin or 'unknown origin'}; {split_of(suite, spec.name)}; "
                      f"{spec.max_episode_steps} steps.*", "",
                      f"- **Ours:** {_rst_to_md(ours) or 'see the reference page.'}",
                      f"- **Upstream vs ours:** {_rst_to_md(fidelity) if fidelity else 'no Fidelity line yet.'}", ""]
    return "\n".join(lines)


# -- build entry point -----------------------------------------------------------------------
def write_pages() -> None:
    """Write every generated page into the MkDocs build (mkdocs-gen-files' virtual files)."""
    import mkdocs_gen_files  # noqa: PLC0415

    from vlapro_bench.cli import app  # noqa: PLC0415
    from vlapro_bench.registry import SUITES  # noqa: PLC0415

    with mkdocs_gen_files.open("reference/cli.md", "w") as f:
        f.write(cli_page(app))
    for suite in SUITES:
        with mkdocs_gen_files.open(f"reference/tasks/{suite}.md", "w") as f:
            f.write(task_page(suite))
    for key, text in api_pages().items():
        with mkdocs_gen_files.open(f"reference/api/{key}.md", "w") as f:
            f.write(text)
    with mkdocs_gen_files.open("fidelity/tasks.md", "w") as f:
        f.write(fidelity_page())


if __name__ == "<run_path>":  # mkdocs-gen-files runs this file with runpy.run_path
    write_pages()
