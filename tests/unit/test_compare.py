"""``tunekit compare OLD.json NEW.json``: the side-by-side table and exit codes usable in CI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tunekit.frontends.cli import main
from tunekit.models import Machine, Recommendation, Report, Trial, Workload
from tunekit.runs import Interpreter, RunRecord


def trial(backend: str, workers: int, throughput: float | None, status: str = "ok") -> Trial:
    return Trial(
        backend=backend,
        workers=workers,
        status=status,  # type: ignore[arg-type]
        throughput=throughput,
        reason=None if status == "ok" else "it broke",
    )


RUN = RunRecord(
    kwargs={"n": 1},
    budget_s=30.0,
    backends=["sequential", "thread", "process"],
    probes=["locks"],
    interpreter=Interpreter("/venv/bin/python", "3.11.7"),
)


def report(trials: list[Trial], model: str, pool: int, throughput: float) -> Report:
    return Report(
        target="app:handler",
        machine=Machine(cpus=2, python="3.11.7", platform="linux-x86_64"),
        workload=Workload(is_coroutine=False),
        trials=trials,
        recommendation=Recommendation(model, pool, throughput, None, ["because"]),
        run=dataclasses.replace(RUN),
    )


OLD = report(
    [
        trial("sequential", 1, 100.0),
        trial("thread", 2, 190.0),
        trial("thread", 4, 380.0),
        trial("process", 2, 150.0),
    ],
    "thread",
    4,
    380.0,
)


def write(tmp_path: Path, name: str, rep: Report) -> str:
    path = tmp_path / name
    path.write_text(rep.to_json())
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_side_by_side_with_a_regression(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # GIVEN a new report where thread x4 got 30 % slower, process x2 broke and one is new
    new = report(
        [
            trial("sequential", 1, 102.0),
            trial("thread", 2, 190.0),
            trial("thread", 4, 266.0),
            trial("process", 2, None, status="failed"),
            trial("process", 4, 300.0),
        ],
        "process",
        4,
        300.0,
    )
    old_path, new_path = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", new)
    # WHEN they are compared with a 10 % threshold
    code, out, err = run(capsys, "compare", old_path, new_path, "--fail-on-regression", "10")
    # THEN the table shows every change and the exit code says "regression"
    assert (code, err) == (1, "")
    assert out == (
        "tunekit compare app:handler -> app:handler\n"
        "backend    ┃ workers ┃ old tasks/s ┃ new tasks/s ┃ change ┃ note      \n"
        "━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━\n"
        "sequential │       1 │         100 │         102 │  +2.0% │           \n"
        "thread     │       2 │         190 │         190 │  +0.0% │           \n"
        "thread     │       4 │         380 │         266 │ -30.0% │ regression\n"
        "process    │       2 │         150 │      failed │      - │ regression\n"
        "process    │       4 │           - │         300 │      - │ new       \n"
        "Recommendation changed: thread with 4 workers (380 tasks/s) -> process with 4 workers "
        "(300 tasks/s)\n"
        "2 regressions beyond 10 %: thread x4, process x2\n"
    )


def test_within_the_threshold_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # GIVEN thread x4 5 % slower, everything else equal
    new = report(
        [*OLD.trials[:2], trial("thread", 4, 361.0), OLD.trials[3]],
        "thread",
        4,
        361.0,
    )
    old_path, new_path = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", new)
    # WHEN compared with a 10 % threshold, and without one
    judged = run(capsys, "compare", old_path, new_path, "--fail-on-regression", "10")
    shown = run(capsys, "compare", old_path, new_path)
    # THEN neither fails; the recommendation is unchanged
    assert judged[0] == 0
    assert judged[1].endswith(
        "Recommendation unchanged: thread with 4 workers (380 -> 361 tasks/s)\n"
        "No regression beyond 10 %\n"
    )
    assert shown[0] == 0
    assert shown[1].endswith(
        "Recommendation unchanged: thread with 4 workers (380 -> 361 tasks/s)\n"
    )


def test_a_slowdown_beyond_any_threshold_fails_only_when_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    new = report([trial("sequential", 1, 10.0)], "sequential", 1, 10.0)
    old_path, new_path = write(tmp_path, "old.json", OLD), write(tmp_path, "new.json", new)
    assert run(capsys, "compare", old_path, new_path)[0] == 0
    assert run(capsys, "compare", old_path, new_path, "--fail-on-regression", "95")[0] == 0
    assert run(capsys, "compare", old_path, new_path, "--fail-on-regression", "50")[0] == 1


def test_different_targets_and_machines_are_noted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    new = Report.from_json(OLD.to_json())
    new.target = "app:other"
    new.machine.cpus = 8
    code, out, _ = run(
        capsys, "compare", write(tmp_path, "o.json", OLD), write(tmp_path, "n.json", new)
    )
    assert code == 0
    assert out.splitlines()[1:3] == [
        "warning: target differs: app:handler vs app:other",
        "note: measured on different machines: 2 CPUs, Python 3.11.7 vs 8 CPUs, Python 3.11.7",
    ]


def with_run(**changed: object) -> Report:
    """OLD's measurements from a run that differed in ``changed``."""
    new = Report.from_json(OLD.to_json())
    new.run = dataclasses.replace(RUN, **changed)  # type: ignore[arg-type]
    return new


@pytest.mark.parametrize(
    ("changed", "warnings", "refused"),
    [
        ({}, [], None),
        (
            {"kwargs": {"n": 3}},
            ['warning: kwargs differ: {"n": 1} vs {"n": 3}'],
            "kwargs differs",
        ),
        (
            {"budget_s": 10.0, "backends": ["sequential", "thread"], "max_workers": 4},
            [
                "warning: budget differs: 30 s vs 10 s",
                'warning: backends differ: ["process", "sequential", "thread"] vs '
                '["sequential", "thread"]',
                "warning: max workers differ: not given vs 4",
            ],
            "budget, backends, max workers differ",
        ),
        (
            {"interpreter": Interpreter("/venv/bin/python", "3.12.1")},
            ["warning: interpreter differs: CPython 3.11.7 vs CPython 3.12.1"],
            "interpreter differs",
        ),
        (
            {"interpreter": Interpreter("/ci/bin/python", "3.11.7")},
            [
                "warning: executable: /venv/bin/python vs /ci/bin/python (the same Python "
                "version: not a reason to refuse)"
            ],
            None,
        ),
    ],
    ids=["same", "kwargs", "three-fields", "python", "executable"],
)
def test_reports_of_different_runs_warn_and_are_not_judged_unless_allowed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    changed: dict[str, object],
    warnings: list[str],
    refused: str | None,
) -> None:
    # GIVEN the same measurements from a run that differed in ``changed``
    old_path = write(tmp_path, "old.json", OLD)
    new_path = write(tmp_path, "new.json", with_run(**changed))
    # WHEN they are compared, judged, and judged with --allow-different
    shown = run(capsys, "compare", old_path, new_path)
    judged = run(capsys, "compare", old_path, new_path, "--fail-on-regression", "10")
    allowed = run(
        capsys, "compare", old_path, new_path, "--fail-on-regression", "10", "--allow-different"
    )
    # THEN each differing field is named in a warning under the title
    assert shown[0] == 0
    lines = shown[1].splitlines()
    assert lines[1 : 1 + len(warnings)] == warnings
    assert not lines[1 + len(warnings)].startswith(("warning:", "note:"))
    # and judging them is refused in one line (exit 2) unless --allow-different
    if refused is None:
        assert judged[:2] == allowed[:2] == (0, shown[1] + "No regression beyond 10 %\n")
    else:
        assert judged == (
            2,
            "",
            f"tunekit: error: the reports did not run the same analysis ({refused}): "
            "--fail-on-regression would judge the difference, not the code; pass "
            "--allow-different to judge them anyway\n",
        )
        assert allowed == (0, shown[1] + "No regression beyond 10 %\n", "")


def test_a_report_without_a_record_says_it_cannot_be_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # GIVEN an old report made before reports recorded their run
    data = OLD.to_dict()
    del data["run"]
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(data))
    # WHEN it is judged against a new one THEN it is judged, with a note saying what is unknown
    code, out, err = run(
        capsys,
        "compare",
        str(old_path),
        write(tmp_path, "new.json", OLD),
        "--fail-on-regression",
        "10",
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == (
        "note: the old report does not record what was run (an earlier tunekit made it): "
        "it cannot be checked"
    )


@pytest.mark.parametrize(
    ("new_text", "message"),
    [
        (None, "cannot read '{new}': No such file or directory"),
        ("not json", "'{new}': report is not valid JSON: Expecting value: line 1 column 1"),
        (
            json.dumps({**OLD.to_dict(), "schema": "tunekit.report/2"}),
            "'{new}': report schema tunekit.report/2 is newer than this tunekit understands "
            "(tunekit.report/1); upgrade tunekit",
        ),
    ],
    ids=["missing", "not-json", "newer-schema"],
)
def test_unreadable_reports_exit_2_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, new_text: str | None, message: str
) -> None:
    old_path = write(tmp_path, "old.json", OLD)
    new_path = tmp_path / "new.json"
    if new_text is not None:
        new_path.write_text(new_text)
    code, out, err = run(capsys, "compare", old_path, str(new_path), "--fail-on-regression", "5")
    assert (code, out) == (2, "")
    assert err.startswith("tunekit: error: " + message.format(new=new_path))
    assert len(err.splitlines()) == 1


def test_a_negative_threshold_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "old.json", OLD)
    code, _, err = run(capsys, "compare", path, path, "--fail-on-regression", "-5")
    assert code == 2
    assert "--fail-on-regression" in err
