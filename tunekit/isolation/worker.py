"""The child side of isolation: ``python -m tunekit.isolation.worker REQUEST.json RESULT.json``.

Each process does one thing (``tunekit.isolation.protocol``): inspect the target, measure one
trial, run one probe, or measure the free cores. The reply is written atomically to
RESULT.json; anything the user's code prints goes to the process's own output, which the
parent keeps apart from its report.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from time import perf_counter
from typing import Any

from tunekit.calls import single_worker
from tunekit.errors import TunekitError
from tunekit.files import write_json_atomically
from tunekit.isolation.calibrate import inspect_target
from tunekit.isolation.protocol import (
    Capacity,
    CapacityRequest,
    InspectRequest,
    ProbeRequest,
    ProbeResult,
    Reply,
    Request,
    TrialRequest,
    decode_request,
    encode_error,
    encode_reply,
)
from tunekit.isolation.trial import run_trial
from tunekit.plugins import PluginManager, collect_probes, get_plugin_manager
from tunekit.probes import ProbeContext
from tunekit.target import load_target


def run_probe(request: ProbeRequest, plugins: PluginManager) -> ProbeResult:
    """Run one probe on the target: its data, or why it skipped."""
    probe = collect_probes(plugins)[request.probe].item
    prepare = getattr(probe, "prepare", None)
    if prepare is not None:  # e.g. replace lock factories before the user's module imports
        prepare()
    target = load_target(request.target)
    reason = probe.supports(target)
    if reason is not None:
        return ProbeResult(skipped=reason)
    context = ProbeContext(
        profile_dir=Path(request.profile_dir),
        time_s=request.time_s,
        task_wall_s=request.task_wall_s,
        cpus=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1,
        workers=request.workers,
        model=request.model,
    )
    with single_worker(target) as one:  # the probes' calls share one per-worker setup
        return ProbeResult(data=probe.run(one, context))


def _spin(seconds: float) -> float:
    """Busy-loop for ``seconds`` of wall time; return the CPU time this process got."""
    cpu0 = time.process_time()
    deadline = perf_counter() + seconds
    while perf_counter() < deadline:
        pass
    return time.process_time() - cpu0


def measure_capacity(request: CapacityRequest, plugins: PluginManager) -> Capacity:
    """Cores really free now: ``cpus`` processes spin together; the CPU they get, per second."""
    cpus, seconds = request.cpus, request.seconds
    with ProcessPoolExecutor(max_workers=cpus) as pool:
        list(pool.map(_spin, [0.01] * cpus))  # start every child before measuring
        obtained = sum(pool.map(_spin, [seconds] * cpus))
    return Capacity(capacity_cores=obtained / seconds)


#: What each kind of request runs.
HANDLERS: dict[type, Callable[[Any, PluginManager], Reply]] = {
    InspectRequest: inspect_target,
    TrialRequest: run_trial,
    ProbeRequest: run_probe,
    CapacityRequest: measure_capacity,
}


def handle(request: Request, plugins: PluginManager) -> dict[str, Any]:
    """The JSON answer to ``request``: its reply, or the ``TunekitError`` it raised."""
    method = getattr(request, "start_method", None)
    if method is not None:
        # the default context of this child: every pool that does not name one uses it
        multiprocessing.set_start_method(method, force=True)
    try:
        return encode_reply(HANDLERS[type(request)](request, plugins))
    except TunekitError as exc:
        return encode_error(exc)


def main(argv: list[str], plugins: PluginManager | None = None) -> int:
    """Answer the request in ``argv[1]`` into ``argv[2]``; ``plugins``: the zygote's manager,
    already loaded (a fresh worker loads its own)."""
    die_with_parent()
    request_path, result_path = Path(argv[1]), Path(argv[2])
    request = decode_request(json.loads(request_path.read_text()))
    answer = handle(request, plugins if plugins is not None else get_plugin_manager())
    write_json_atomically(result_path, answer)
    return 0


def die_with_parent() -> None:
    """Linux: if the tunekit process is killed outright, this child is killed too."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # The result is written: exit now, without waiting for non-daemon threads or atexit
    # handlers that the user's code may have left behind (the parent kills its processes).
    os._exit(code)
