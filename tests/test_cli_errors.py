"""Command-line errors a user can act on: one line (or one usage error) and a non-zero exit code,
never a traceback, unless ``VLAPRO_DEBUG=1`` asks for one."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vlapro_bench.cli import app
from vlapro_bench.cli.boundary import DEBUG_VARIABLE, ErrorBoundary, error_line
from vlapro_bench.policy_args import PolicyArgumentError, check_policy_arguments

runner = CliRunner()
WIDE = {"COLUMNS": "400"}  # rich wraps usage errors at the terminal width
_PROGRESS = re.compile(r"[?\d.]+(ep|it|step)/s")


def invoke(args: list[str], **env: str):
    return runner.invoke(app, [str(a) for a in args], env={**WIDE, DEBUG_VARIABLE: "", **env})


def message_lines(stderr: str) -> list[str]:
    """stderr without progress bars (tqdm redraws with carriage returns)."""
    return [line for line in re.split(r"[\r\n]+", stderr) if line.strip() and not _PROGRESS.search(line)]


def flat(text: str) -> str:
    """Output with rich's boxes and line wrapping undone."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


@pytest.fixture
def paths(tmp_path) -> dict[str, Path]:
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    adir = tmp_path / "adir"
    adir.mkdir()
    corrupt = tmp_path / "corrupt" / "meta"
    corrupt.mkdir(parents=True)
    (corrupt / "info.json").write_text("{\"codebase_version\": ")
    return {"FILE": afile, "DIR": adir, "CORRUPT": corrupt.parent, "NEW": tmp_path / "new"}


def _fill(args: list[str], paths: dict[str, Path]) -> list[str]:
    out = []
    for arg in args:
        for key, path in paths.items():
            arg = arg.replace(key, str(path))
        out.append(arg)
    return out


#: Usage errors (exit code 2): found while the options are parsed, before any work.
USAGE_ERRORS = [
    (["list", "--suite", "nope"], "unknown suite 'nope'"),
    (["expert", "click_bell", "--episodes", "-1"], "'--episodes'"),
    (["baselines", "--episodes", "-1"], "'--episodes'"),
    (["rollout", "click_bell", "--episodes", "-1", "--obs-mode", "state"], "'--episodes'"),
    (["render", "click_bell", "--steps", "-5"], "'--steps'"),
    (["render", "click_bell", "--seed", "-1"], "'--seed'"),
    (["render", "click_bell", "--out", "DIR"], "is a folder; give a file path"),
    (["render", "click_bell", "--out", "FILE/x.png"], "is a file, so"),
    (["baselines", "--episodes", "1", "--csv", "DIR"], "is a folder; give a file path"),
    (["rollout", "click_bell", "--obs-mode", "state", "--csv", "DIR"], "is a folder; give a file path"),
    (["eval", "click_bell", "--out", "FILE"], "is a file; give a folder"),
    (["eval", "click_bell", "--out", "FILE/sub"], "is a file, so the folder"),
    (["eval", "click_bell", "--cache-dir", "FILE"], "'--cache-dir'"),
    (["eval", "click_bell", "--workers", "0"], "'--workers'"),
    (["eval", "click_bell", "--episodes", "0"], "'--episodes'"),
    (["eval", "unseen", "--suite", "robotwin", "--protocol", "rlbench-v0"], "drop --suite or pass --suite rlbench"),
    (["eval", "click_bell", "--obs-mode", "state", "--policy-arg", "foo=1", "--out", "NEW"],
     "unexpected keyword argument 'foo'; it takes seed"),
    (["collect", "--out", "FILE", "--task", "click_bell"], "is a file; give a folder"),
    (["collect", "--out", "NEW", "--task", "click_bell", "--seed-start", "-3"], "'--seed-start'"),
    (["train", "--data", "CORRUPT", "--out", "FILE"], "'--out'"),
    (["train", "--data", "CORRUPT", "--out", "NEW", "--device", "tpu"], "device must be cpu, cuda, cuda:N, mps or"),
    (["report", "DIR", "--out", "FILE"], "is a file; give a folder"),
    (["reproduce", "--out", "FILE"], "is a file; give a folder"),
    (["memory", "build", "--backbone", "DIR", "--data", "DIR", "--out", "FILE"], "is a file; give a folder"),
    (["memory", "build", "--backbone", "DIR", "--data", "DIR", "--out", "NEW", "--device", "gpu"],
     "device must be"),
    (["memory", "inspect", "DIR", "--picture", "DIR"], "is a folder; give a file path"),
    (["memory", "export", "DIR", "click_bell", "FILE"], "is a file; give a folder"),
    (["memory", "import", "DIR", "DIR", "--data", "DIR"], "Missing option '--task'"),
    (["memory", "convert", "DIR", "--out", "FILE"], "is a file; give a folder"),
]


@pytest.mark.parametrize(("args", "expected"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_name_the_option_and_show_no_traceback(paths, args, expected):
    result = invoke(_fill(args, paths))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert expected in flat(result.output), result.output


def test_list_blames_the_suite_not_the_split_version():
    result = invoke(["list", "--suite", "nope"])
    assert "--split-version" not in result.output and "choose one of robotwin, rlbench" in flat(result.output)


#: Errors found while the command runs (exit code 1): one line on stderr.
RUN_ERRORS = [
    (["rollout", "click_bell", "--obs-mode", "state", "--episodes", "1", "--policy-arg", "foo=1"],
     "error: policy 'random': got an unexpected keyword argument 'foo'; it takes seed"),
    (["rollout", "click_bell", "--obs-mode", "state", "--episodes", "1", "--policy", "tinyvla"],
     "error: policy 'tinyvla': missing a required argument: 'checkpoint'"),
    (["rollout", "click_bell", "--obs-mode", "state", "--episodes", "1", "--policy", "expert", "--policy-arg",
      "chunk=abc"], "error: policy 'expert': chunk must be int, got 'abc' (--policy-arg chunk=...)"),
    (["rollout", "click_bell", "--obs-mode", "state", "--episodes", "1", "--policy-arg", "seed=abc"],
     "error: policy 'random': seed must be int or null, got 'abc'"),
    (["rollout", "click_bell", "--obs-mode", "state", "--episodes", "1", "--policy", "expert", "--policy-arg",
      "chunk=0"], "error: the expert's chunk must be >= 1 action, got 0"),
    (["render", "click_bell", "--size", "0x0", "--out", "NEW/r.png"], "error: camera_size must be between 8 and 2048"),
    (["render", "click_bell", "--size", "4000x4000", "--out", "NEW/r.png"], "error: camera_size must be between"),
    (["train", "--data", "CORRUPT", "--out", "NEW", "--device", "cpu"], "meta/info.json: not valid JSON"),
    (["memory", "convert", "DIR"], "index.json is missing"),
    (["memory", "export", "NEW", "click_bell", "NEW/out"], "error: no memory bank at"),
    (["memory", "import", "DIR", "DIR", "--task", "click_bell", "--data", "DIR"], "index.json is missing"),
]


@pytest.mark.parametrize(("args", "expected"), RUN_ERRORS, ids=[" ".join(a) for a, _ in RUN_ERRORS])
def test_run_errors_are_one_line(paths, args, expected):
    result = invoke(_fill(args, paths))
    assert result.exit_code == 1, result.output
    lines = message_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert expected in lines[0]


# -- the boundary itself ------------------------------------------------------------------------
def _app(error: BaseException) -> typer.Typer:
    demo = typer.Typer(cls=ErrorBoundary)

    @demo.command()
    def boom() -> None:
        raise error

    @demo.command()
    def fine() -> None:
        typer.echo("ok")

    return demo


def test_library_bugs_are_one_line_that_says_how_to_see_the_traceback():
    result = runner.invoke(_app(KeyError("task")), ["boom"], env={DEBUG_VARIABLE: ""})
    assert result.exit_code == 1
    [line] = message_lines(result.stderr)
    assert line.startswith("error: unexpected KeyError: 'task'") and f"{DEBUG_VARIABLE}=1" in line


def test_debug_variable_lets_the_traceback_through():
    result = runner.invoke(_app(KeyError("task")), ["boom"], env={DEBUG_VARIABLE: "1"})
    assert isinstance(result.exception, KeyError)
    result = runner.invoke(_app(ValueError("bad")), ["boom"], env={DEBUG_VARIABLE: "0"})
    assert result.exit_code == 1 and not isinstance(result.exception, ValueError)


def test_ctrl_c_exits_130_with_one_line():
    result = runner.invoke(_app(KeyboardInterrupt()), ["boom"], env={DEBUG_VARIABLE: ""})
    assert result.exit_code == 130 and message_lines(result.stderr) == ["interrupted"]


def test_deliberate_exits_and_usage_errors_pass_through():
    assert runner.invoke(_app(typer.Exit(3)), ["boom"]).exit_code == 3
    assert runner.invoke(_app(typer.BadParameter("nope")), ["boom"]).exit_code == 2
    assert runner.invoke(_app(KeyError()), ["fine"]).output == "ok\n"


@pytest.mark.parametrize(("error", "expected"), [
    (FileExistsError(errno.EEXIST, "File exists", "/x/results"), "/x/results: File exists (something is already"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/x/a/b"), "/x/a/b: Not a directory (part of this path"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/x/t.csv"), "/x/t.csv: Is a directory (this is a folder"),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x"), "/root/x: Permission denied (choose a path"),
    (OSError(errno.ENOSPC, "No space left on device", "/x/f"), "/x/f: No space left on device"),
    (FileNotFoundError("Training config cfg.json does not exist"), "Training config cfg.json does not exist"),
])
def test_os_errors_say_which_path_and_what_to_do(error, expected):
    assert error_line(error).startswith(expected)
    result = runner.invoke(_app(error), ["boom"], env={DEBUG_VARIABLE: ""})
    assert result.exit_code == 1 and message_lines(result.stderr) == [f"error: {error_line(error)}"]


def test_the_help_documents_the_debug_variable():
    result = invoke(["--help"])
    assert f"{DEBUG_VARIABLE}=1" in flat(result.output)


@pytest.mark.parametrize("option", [["--address", "auto"], ["--executor", "dask"]])
def test_executor_settings_are_refused_before_the_run_records_a_session(paths, option):
    result = invoke(["eval", "click_bell", "--obs-mode", "state", "--out", paths["NEW"], *option])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not paths["NEW"].exists()


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"seed": 3, "rate": 1, "path": "runs/x", "flag": True, "name": None}, None),
    ({"seed": True}, "seed must be int or null, got True"),
    ({"rate": "fast"}, "rate must be float, got 'fast'"),
    ({"path": 3}, "path must be str or Path, got 3"),
    ({"flag": 1}, "flag must be bool, got 1"),
    ({"model": "anything"}, None),  # an annotation that is not a simple type is left to the factory
    ({"sede": 1}, "got an unexpected keyword argument 'sede'; it takes seed, rate, path, flag, name, model"),
])
def test_policy_arguments_are_checked_against_the_factory(kwargs, problem):
    def factory(env, seed: int | None = 0, rate: float = 0.5, path: str | Path = "", flag: bool = False,
                name: str | None = None, model: typer.Typer | None = None):
        return None

    if problem is None:
        check_policy_arguments("demo", factory, kwargs)
    else:
        with pytest.raises(PolicyArgumentError, match=re.escape(problem)):
            check_policy_arguments("demo", factory, kwargs)
