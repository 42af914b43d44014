"""Command-line errors a user can act on: one line (or one usage error) and a non-zero exit code,
never a traceback, unless ``VLAPRO_DEBUG=1`` asks for one."""

from __future__ import annotations

import errno
import re

import pytest
import typer
from typer.testing import CliRunner

from vlapro_bench.cli import app
from vlapro_bench.cli_boundary import DEBUG_VARIABLE, ErrorBoundary, error_line

runner = CliRunner()
WIDE = {"COLUMNS": "400"}  # rich wraps usage errors at the terminal width
_PROGRESS = re.compile(r"[?\d.]+(ep|it|step)/s")


def invoke(args: list[str], **env: str):
    return runner.invoke(app, [str(a) for a in args], env={**WIDE, DEBUG_VARIABLE: "", **env})


def test_a_run_error_is_one_line_without_traceback(tmp_path):
    result = invoke(["render", "click_bell", "--size", "0x0", "--out", tmp_path / "r.png"])
    assert result.exit_code == 1
    assert message_lines(result.stderr) == ["error: camera_size must be between 8 and 2048 pixels, got (0, 0)"]


def message_lines(stderr: str) -> list[str]:
    """stderr without progress bars (tqdm redraws with carriage returns)."""
    return [line for line in re.split(r"[\r\n]+", stderr) if line.strip() and not _PROGRESS.search(line)]


def flat(text: str) -> str:
    """Output with rich's boxes and line wrapping undone."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


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
