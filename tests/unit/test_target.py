"""The target resolver: every way a target spec can be right or wrong (in-process, no trials)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunekit.errors import InputError, TargetError
from tunekit.target import TargetSpec, build_calls, load_target, resolve_callable, split_spec

from ..conftest import target


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("pkg.mod:func", ("pkg.mod", "func")),
        ("pkg.mod:Class.method", ("pkg.mod", "Class.method")),
        ("path/to/file.py:func", ("path/to/file.py", "func")),
    ],
)
def test_split_spec_accepts_the_three_shapes(spec: str, expected: tuple[str, str]) -> None:
    assert split_spec(spec) == expected


@pytest.mark.parametrize("spec", ["nocolon", ":func", "mod:", "mod:not-a-name", "mod:a..b"])
def test_split_spec_rejects_malformed_specs(spec: str) -> None:
    with pytest.raises(TargetError):
        split_spec(spec)


def test_module_function_resolves() -> None:
    func = resolve_callable("os.path:join")
    assert func("a", "b") == "a/b"


def test_file_function_resolves_and_detects_coroutines() -> None:
    assert not load_target(TargetSpec(target("sleeper"))).is_coroutine
    assert load_target(TargetSpec(target("async_sleeper"))).is_coroutine


def test_plain_method_is_bound_to_a_new_instance() -> None:
    assert resolve_callable(target("Greeter.greet"))("bo") == "hi bo"
    assert resolve_callable(target("Greeter.shout"))("bo") == "BO"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuchmodule_xyz:f", "cannot import 'nosuchmodule_xyz': no module named"),
        ("json:dumpz", "'json' has no attribute 'dumpz' (did you mean 'dump', 'dumps'?)"),
        (target("NOT_CALLABLE"), "is not callable (it is a int)"),
        (target("Greeter"), "is a class, not a function"),
        (target("NeedsArgs.get"), "NeedsArgs() failed"),
        ("/no/such/file.py:f", "no such file"),
    ],
)
def test_resolution_errors_are_one_clear_message(spec: str, message: str) -> None:
    with pytest.raises(TargetError) as info:
        resolve_callable(spec)
    assert message in str(info.value)
    assert "Traceback" not in str(info.value)


def test_module_raising_on_import_shows_the_last_lines_of_its_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken_on_import.py"
    broken.write_text("def helper():\n    raise RuntimeError('no config')\n\nhelper()\n")
    with pytest.raises(TargetError) as info:
        resolve_callable(f"{broken}:f")
    text = str(info.value)
    assert text.splitlines()[0] == f"importing '{broken}' raised RuntimeError: no config"
    assert "raise RuntimeError('no config')" in text


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "bad_syntax.py"
    broken.write_text("x = 1\ndef f(:\n    pass\n")
    with pytest.raises(TargetError, match=r"bad_syntax.py:2: SyntaxError"):
        resolve_callable(f"{broken}:f")


def test_missing_dependency_inside_module_is_an_import_failure_not_a_missing_target(
    tmp_path: Path,
) -> None:
    module = tmp_path / "needs_dep.py"
    module.write_text("import no_such_dependency_abc\n")
    with pytest.raises(TargetError, match="raised ModuleNotFoundError"):
        resolve_callable(f"{module}:f")


def test_calls_from_args_and_kwargs() -> None:
    assert build_calls(TargetSpec("m:f", [1, 2], {"k": 3})) == [((1, 2), {"k": 3})]


def test_calls_from_an_inputs_factory_map_tuples_dicts_and_values() -> None:
    spec = TargetSpec("m:f", kwargs={"common": 0}, inputs=target("numbers"))
    assert build_calls(spec) == [
        ((1, 2), {"common": 0}),
        ((), {"common": 0, "a": 5}),
        ((7,), {"common": 0}),
    ]


def test_inputs_factory_that_raises_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"inputs factory .* raised ValueError: always broken"):
        build_calls(TargetSpec("m:f", inputs=target("always_fails")))


def test_a_generator_target_is_consumed_to_the_end_per_call() -> None:
    loaded = load_target(TargetSpec(target("sleeping_generator"), kwargs={"delay": 0.0}))
    assert loaded.consumes == "generator"
    assert not loaded.is_coroutine
    assert loaded.func(4) == 4  # every item was pulled, not just the generator object built


def test_an_async_generator_target_is_awaited_to_the_end_per_call() -> None:
    import asyncio

    loaded = load_target(TargetSpec(target("async_sleeping_generator")))
    assert loaded.consumes == "async generator"
    assert loaded.is_coroutine
    assert asyncio.run(loaded.func(2, 0.0)) == 2


def test_plain_and_coroutine_targets_consume_nothing() -> None:
    assert load_target(TargetSpec(target("sleeper"))).consumes is None
    assert load_target(TargetSpec(target("async_sleeper"))).consumes is None
