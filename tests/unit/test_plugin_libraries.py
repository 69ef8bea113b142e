"""``tunekit plugins``' library lines, read from a real distribution's metadata on disk."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from tunekit.frontends.cli.libraries import LibraryStatus, library_statuses, required_names

METADATA = """\
Metadata-Version: 2.1
Name: tunekit-sample
Version: 0.1.0
Requires-Dist: tunekit
Requires-Dist: click>=8
Requires-Dist: tunekit-no-such-library-anywhere>=1
Requires-Dist: mkdocs; extra == "docs"
"""


def sample_distribution(tmp_path: Path) -> importlib.metadata.Distribution:
    """GIVEN a plugin distribution's metadata as pip writes it."""
    info = tmp_path / "tunekit_sample-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(METADATA)
    return importlib.metadata.PathDistribution(info)


def test_a_plugins_libraries_are_its_requirements_but_tunekit_and_extras(tmp_path: Path) -> None:
    assert required_names(sample_distribution(tmp_path)) == [
        "click",
        "tunekit-no-such-library-anywhere",
    ]


def test_each_library_says_its_version_and_whether_it_imports(tmp_path: Path) -> None:
    click, missing = library_statuses([sample_distribution(tmp_path)])
    assert click == LibraryStatus(
        "click", "tunekit-sample", importlib.metadata.version("click"), None
    )
    assert click.describe() == f"{click.version}, imports"
    assert missing.describe() == "not installed (no distribution of that name)"


def test_a_library_that_fails_to_import_says_why() -> None:
    broken = LibraryStatus("lib", "tunekit-lib", "1.0", "import lib: ImportError: boom")
    assert broken.describe() == "1.0, does not import: import lib: ImportError: boom"
