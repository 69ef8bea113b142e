"""The option parser under random input: any mix of good and bad options ends with exit 0, 1
or 2 and one clear message, never a traceback unless --debug. A mix that is valid runs a real
(short) analysis, with its child processes: hence an integration test."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tunekit.frontends.cli import main

pytestmark = pytest.mark.slow

OPTION_VALUES = {
    "--budget": ["1.5", "0", "-1", "x", "nan", "inf", "-inf", ""],
    "--max-workers": ["1", "0", "-3", "two"],
    "--backend": ["thread", "nope", ""],
    "--args": ["[1]", "[", "{}", "null"],
    "--kwargs": ['{"a": 1}', "[]", "{"],
    "--inputs": ["m:f", "bad", ""],
    "--json": ["-", "/no/such/dir/r.json", "/proc/r.json"],
    "--memory-limit": ["1G", "0", "12X", "-5M"],
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target_spec=st.sampled_from(
        ["tunekit.examples:tiny", "no_such_module_q:f", "nocolon", "m:1bad", ""]
    ),
    budget=st.sampled_from(OPTION_VALUES["--budget"]),
    options=st.lists(
        st.sampled_from(sorted(OPTION_VALUES)).flatmap(
            lambda name: st.tuples(st.just(name), st.sampled_from(OPTION_VALUES[name]))
        ),
        max_size=4,
    ),
    extra=st.lists(st.sampled_from(["--quiet", "--debug", "--bogus", "-q", "--help"]), max_size=2),
)
@example("tunekit.examples:tiny", "nan", [], [])
@example("tunekit.examples:tiny", "1.5", [("--backend", "sequential"), ("--json", "-")], ["-q"])
def test_option_parser_fuzz(
    capsys: pytest.CaptureFixture[str],
    target_spec: str,
    budget: str,
    options: list[tuple[str, str]],
    extra: list[str],
) -> None:
    # a --budget always comes first: a valid target must not run for the default 30 s
    pairs = [("--budget", budget), *[p for p in options if p[0] != "--budget"]]
    argv = ["analyze", target_spec, *[part for pair in pairs for part in pair], *extra]
    code = main(argv)
    _, err = capsys.readouterr()
    assert code in (0, 1, 2), argv
    if "--debug" not in argv:
        assert "Traceback" not in err, argv
