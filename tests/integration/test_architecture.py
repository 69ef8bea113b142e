"""The layers of docs/architecture.md hold: no module imports from a layer above its own, and
no package's modules import each other in a cycle (the contracts are in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
#: import-linter's command, installed beside this interpreter with the test extras.
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contracts, on the ``tunekit`` package under ``root``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_package_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        # the data model importing the engine: a lower layer reaching up
        ("models.py", "import tunekit.engine.analysis", "tunekit.models is not allowed"),
        # two modules of the engine importing each other
        ("engine/budget.py", "import tunekit.engine.bench", "no import cycles"),
    ],
    ids=["upward", "cycle"],
)
def test_a_planted_violation_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    # GIVEN a copy of the package with one import added that the layers forbid
    shutil.copytree(ROOT / "tunekit", tmp_path / "tunekit")
    path = tmp_path / "tunekit" / module
    path.write_text(path.read_text() + f"\n{planted}  # planted by the test\n")
    # WHEN the contracts are checked THEN they fail, naming it
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "broken" in result.stdout.rsplit("Contracts:", 1)[1]
    assert broken in result.stdout
