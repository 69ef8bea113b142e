"""Errors that teach: a target tunekit cannot reach, or called with arguments that do not fit,
is named as such in one line with what to do (real files, the real command)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = """\
import time


def outer():
    def inner():
        time.sleep(0.001)

    return inner


def needs(n, scale=1):
    time.sleep(0.001 * n * scale)


def breaks_inside():
    return len(5)


def cases():
    return [(1, 2, 3)]


if __name__ == "__main__":

    def work():
        time.sleep(0.001)
"""

HOW = (
    "give every call's arguments with --args JSON and --kwargs JSON, or one set per task with "
    "--inputs MODULE:FACTORY (args=, kwargs=, inputs= in tunekit.analyze())"
)


def tunekit(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``tunekit analyze`` as a user runs it, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "tunekit", "analyze", *argv, "--budget", "6", "--probe", "none"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["job.py:work"],
            "cannot use 'job.py:work': 'work' is defined under `if __name__ == \"__main__\":` "
            "(job.py, line 25), which runs only when the file is run as a script, not when "
            "tunekit imports it in a worker process: move the definition above that `if`, to "
            "module level",
        ),
        (
            ["job.py:inner"],
            "cannot use 'job.py:inner': 'inner' is a nested function (a closure), "
            "outer.<locals>.inner, defined inside 'outer' (job.py, line 5): a worker process can "
            "only find a function by name at module level; move it there and pass what it uses "
            "from 'outer' as arguments (--args/--kwargs)",
        ),
        (
            ["job.py:outer.inner"],
            "cannot use 'job.py:outer.inner': 'inner' is a nested function (a closure), "
            "outer.<locals>.inner, defined inside 'outer' (job.py, line 5): a worker process can "
            "only find a function by name at module level; move it there and pass what it uses "
            "from 'outer' as arguments (--args/--kwargs)",
        ),
        (
            ["job.py:outer.<locals>.inner"],
            "target 'job.py:outer.<locals>.inner' is a nested function (a closure) defined "
            "inside 'outer': a worker process can only find a function by name at module level; "
            "move it there",
        ),
        (
            ["job.py:needs"],
            "job.py:needs cannot be called with no arguments: TypeError: needs() missing 1 "
            f"required positional argument: 'n' (its signature is (n, scale=1)); {HOW}",
        ),
        (
            ["job.py:needs", "--args", "[2]", "--kwargs", '{"size": 3}'],
            "job.py:needs cannot be called with (2, size=3): TypeError: needs() got an "
            f"unexpected keyword argument 'size' (its signature is (n, scale=1)); {HOW}",
        ),
        (
            ["job.py:needs", "--inputs", "job.py:cases"],
            "job.py:needs cannot be called with job.py:cases's first item: TypeError: needs() "
            "takes from 1 to 2 positional arguments but 3 were given (its signature is "
            f"(n, scale=1)); {HOW}",
        ),
    ],
    ids=[
        "main-guard",
        "closure",
        "closure-by-path",
        "locals-spec",
        "missing",
        "unexpected",
        "inputs",
    ],
)
def test_an_unreachable_target_or_unfit_arguments_are_one_line_that_says_what_to_do(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    # GIVEN a script with a closure, a function under the main guard, one that needs an argument
    (tmp_path / "job.py").write_text(SCRIPT)
    # WHEN tunekit analyzes one of them as named
    proc = tunekit(tmp_path, *argv)
    # THEN it exits 1 with one line naming the problem and the fix, and no report
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == f"tunekit: error: {message}\n"


def test_a_type_error_from_inside_the_target_is_not_blamed_on_the_arguments(
    tmp_path: Path,
) -> None:
    # GIVEN a target whose arguments fit but whose body raises TypeError
    (tmp_path / "job.py").write_text(SCRIPT)
    # WHEN it is analyzed THEN the report says it raised on every call, with no --args hint
    proc = tunekit(tmp_path, "job.py:breaks_inside", "--backend", "sequential")
    assert proc.returncode == 1
    assert "the target raised on every call: TypeError: object of type 'int' has no len()" in (
        proc.stdout
    )
    assert "--args" not in proc.stdout + proc.stderr


def test_the_python_api_names_a_function_under_the_main_guard(tmp_path: Path) -> None:
    # GIVEN a script that analyzes a function it defines under its main guard
    script = tmp_path / "run_me.py"
    script.write_text(
        textwrap.dedent(
            """
            import tunekit
            from tunekit.errors import TunekitError

            if __name__ == "__main__":
                def work():
                    pass

                try:
                    tunekit.analyze(work, backends=["sequential"], budget=5, probes=[])
                except TunekitError as exc:
                    print(exc)
            """
        )
    )
    # WHEN it runs THEN the error says where the function is and to move it
    proc = subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout == (
        f"cannot use '{script.resolve()}:work': 'work' is defined under "
        '`if __name__ == "__main__":` (run_me.py, line 6), which runs only when the file is '
        "run as a script, not when tunekit imports it in a worker process: move the definition "
        "above that `if`, to module level\n"
    ), proc.stderr
