"""The command line: exit codes, one-line errors, the report on stdout and in JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunekit.frontends.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["analyze", "m:f", "--budget", "-1"], "--budget"),
        (["analyze", "m:f", "--budget", "0"], "--budget"),
        (["analyze", "m:f", "--max-workers", "0"], "--max-workers"),
        (["analyze", "m:f", "--start-method", "vfork"], "--start-method"),
        (["analyze", "m:f", "--args", "[1,"], "not valid JSON"),
        (["analyze", "m:f", "--args", "{}"], "must be a JSON list"),
        (["analyze", "m:f", "--kwargs", "[1]"], "must be a JSON dict"),
        (["analyze", "m:f", "--backend", "nope"], "unknown backend 'nope'; known: sequential"),
        (["analyze", "m:f", "--json", "/no/such/folder/r.json"], "does not exist"),
        (["analyze", "m:f", "--args", "[1]", "--inputs", "m:g"], "either --args or --inputs"),
        (["analyze"], "Missing argument 'TARGET'"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_json_output_into_a_folder_path_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "analyze", "m:f", "--json", str(tmp_path))
    assert code == 2
    assert "is a folder" in err


def test_bad_target_shape_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "analyze", "no_colon_here")
    assert code == 1
    assert err.startswith("tunekit: error: target 'no_colon_here' must look like")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("tunekit, version ")
