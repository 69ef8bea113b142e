"""One trial: a backend measured at one pool size, as the report keeps it.

Part of the data model (``tunekit.models`` re-exports it): plain dataclasses that round-trip
through JSON, field meanings in docs/json-report.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TrialStatus = Literal["ok", "failed", "timeout", "skipped"]
#: How the reason of a trial stopped for using too much memory begins.
MEMORY_LIMIT_REASON = "memory limit: "


@dataclass
class Latency:
    """Per-task latency percentiles in seconds: the time a task occupies a worker."""

    p50: float
    p95: float
    p99: float


@dataclass
class Trial:
    """One (backend, workers) configuration measured in its own process."""

    backend: str
    workers: int
    status: TrialStatus
    reason: str | None = None
    tasks: int = 0
    repeats: int = 0
    throughput: float | None = None
    throughput_spread: float | None = None
    throughput_values: list[float] = field(default_factory=list)
    latency_s: Latency | None = None
    cpu_s: float | None = None
    wall_s: float | None = None
    peak_rss_bytes: int | None = None
    worker_peak_rss_bytes: int | None = None
    startup_s: float | None = None
    #: Seconds one worker's per-worker setup (``--setup``) took, the mean over the workers
    #: that ran it (``setups``); part of ``startup_s``, never of a call's time.
    setup_s: float | None = None
    setups: int = 0
    chunksize: int | None = None
    #: How the backend's pool started its worker processes (``multiprocessing`` start
    #: method: fork, forkserver, spawn); None for a backend that starts none.
    start_method: str | None = None
    errors: int = 0
    first_error: str | None = None
    #: The repeats spread more than 10% around their median.
    unstable: bool = False
    #: Times the trial was measured again (its values then include every measurement).
    reruns: int = 0
    #: Calls that succeeded per second: what a user gets. The median over the windows of
    #: (calls that did not raise) / seconds, windows merged until their successes tell a rate
    #: from chance (``stats.success_rates``); equal to ``throughput`` when no call raised.
    goodput: float | None = None
    goodput_spread: float | None = None
    goodput_values: list[float] = field(default_factory=list)
    #: Share of the measured calls that raised.
    error_rate: float = 0.0
    #: The goodput of each separate measurement of this configuration (the sweep's, re-runs,
    #: rounds of the duel), in order: their spread is the noise between moments, which the
    #: windows of one stream, measured back to back, underestimate.
    rounds: list[float] = field(default_factory=list)
    #: Why the numbers cannot be trusted (e.g. more cores busy than the machine has), if so:
    #: such a trial is shown but never ranked.
    suspect: str | None = None
    #: Threads each native pool (BLAS, OpenMP) was limited to per worker process (for threads:
    #: in the whole trial process); None: as the libraries start them.
    inner_threads: int | None = None

    def __post_init__(self) -> None:
        """Fill in what reports of earlier versions (and trials measured as plain batches of
        calls) leave out: the error rate from the counts, goodput from throughput."""
        measured = self.tasks * max(self.repeats, 1)
        if self.errors and not self.error_rate and measured:
            self.error_rate = self.errors / measured
        if self.goodput is None and self.throughput is not None and self.status == "ok":
            kept = 1.0 - self.error_rate
            self.goodput = self.throughput * kept
            self.goodput_values = [v * kept for v in self.throughput_values]
            self.goodput_spread = self.throughput_spread
        if not self.rounds and self.goodput is not None:
            self.rounds = [self.goodput]

    @property
    def key(self) -> str:
        """A short label such as ``thread x4`` (``process x2, 1 native thread`` when limited)."""
        label = f"{self.backend} x{self.workers}"
        if self.inner_threads is None:
            return label
        plural = "s" if self.inner_threads > 1 else ""
        return f"{label}, {self.inner_threads} native thread{plural}"

    @property
    def over_memory(self) -> bool:
        """Stopped for using more memory than the limit."""
        return (self.reason or "").startswith(MEMORY_LIMIT_REASON)

    @property
    def usable(self) -> bool:
        """Fit to rank: measured, some calls succeeded, and nothing about it is impossible.
        The one test every stage uses."""
        return self.status == "ok" and bool(self.goodput) and self.suspect is None
