"""The Universal Scalability Law fitted to one backend's measured throughput curve.

    X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1))

sigma is contention (serialized work: a lock, the GIL), kappa coherency (crosstalk that makes
more workers slower). Fitted by bounded least squares on relative residuals, so fast and slow
configurations weigh alike. Pure: no I/O.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tunekit.models import ScalingFit, Trial

if TYPE_CHECKING:  # numpy and scipy load only when a fit is made
    import numpy as np

#: Pool sizes needed per parameter fitted, beyond the parameters themselves: a fit through as
#: many points as parameters passes through them all and says nothing of its own quality.
#: Three sizes fit Amdahl's law (lambda, sigma; kappa = 0), four or more the whole USL.
AMDAHL_POINTS = 3
USL_POINTS = 4
#: A fit whose RMS relative residual exceeds this multiple of the measured noise is poor.
POOR_FIT_NOISE_FACTOR = 2.0
#: ... and never call a fit poor below this residual (5%: the noise floor of a shared machine).
MIN_POOR_FIT_RESIDUAL = 0.05


def usl(workers: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    """Throughput the USL predicts at ``workers``."""
    n = workers
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))  # type: ignore[no-any-return]


def predict(fit: ScalingFit, workers: float) -> float | None:
    """Goodput the fit predicts at ``workers``; None without a usable fit."""
    if not fit.fitted or fit.poor or fit.lambda_ is None:
        return None
    sigma, kappa = fit.sigma or 0.0, fit.kappa or 0.0
    return fit.lambda_ * workers / (1 + sigma * (workers - 1) + kappa * workers * (workers - 1))


def fit_usl(points: Sequence[tuple[int, float]], noise: float = 0.0) -> ScalingFit:
    """Fit (workers, goodput) points, with fewer parameters when there are fewer sizes
    (``AMDAHL_POINTS``, ``USL_POINTS``); ``noise`` is the typical relative spread of a point."""
    by_workers: dict[int, list[float]] = {}
    for workers, value in points:
        if value > 0:
            by_workers.setdefault(workers, []).append(value)
    n_points = len(by_workers)
    if n_points < AMDAHL_POINTS:
        return ScalingFit(
            n_points,
            False,
            f"{n_points} pool sizes measured; a fit needs {AMDAHL_POINTS} (Amdahl's law) or "
            f"{USL_POINTS} (the Universal Scalability Law)",
        )
    import numpy as np
    from scipy.optimize import least_squares

    n = np.array(sorted(by_workers), dtype=float)
    x = np.array([float(np.median(by_workers[int(k)])) for k in n])
    start_lambda = float(x[0] / n[0])
    full = n_points >= USL_POINTS

    def residuals(params: np.ndarray) -> np.ndarray:
        lam, sigma = params[0], params[1]
        kappa = params[2] if full else 0.0
        return (usl(n, lam, sigma, kappa) - x) / x  # type: ignore[no-any-return]

    start = [start_lambda, 0.05, 0.001] if full else [start_lambda, 0.05]
    upper = [np.inf, 1.0, 1.0] if full else [np.inf, 1.0]
    result = least_squares(residuals, x0=start, bounds=([0.0] * len(start), upper))
    lam, sigma = float(result.x[0]), float(result.x[1])
    kappa = float(result.x[2]) if full else 0.0
    rms = float(math.sqrt(float(np.mean(result.fun**2))))
    poor = rms > max(POOR_FIT_NOISE_FACTOR * noise, MIN_POOR_FIT_RESIDUAL)
    peak = math.sqrt((1 - sigma) / kappa) if kappa > 1e-12 else None
    law = "the Universal Scalability Law" if full else "Amdahl's law (no coherency term)"
    if poor:
        reason = (
            f"poor fit of {law}: residuals {rms:.0%} are well above the {noise:.0%} noise; "
            "rely on the measured curve"
        )
    else:
        reason = f"{law} fitted to {n_points} pool sizes, residuals {rms:.0%}"
    return ScalingFit(n_points, True, reason, lam, sigma, kappa, peak, rms, poor, len(start))


def fit_curves(trials: Sequence[Trial], backends: Sequence[str]) -> dict[str, ScalingFit]:
    """The scaling law fitted to each of ``backends``' goodput curves; the sequential baseline
    stands for a pool of 1 where a backend has none (it is that, less the hand-over)."""
    baseline = next((t for t in trials if t.backend == "sequential" and t.usable), None)
    fits = {}
    for name in backends:
        curve = [t for t in trials if t.backend == name and t.usable]
        if not curve:
            continue
        if baseline is not None and all(t.workers > 1 for t in curve):
            curve = [baseline, *curve]
        points = [(t.workers, v) for t in curve for v in t.goodput_values]
        spreads = [t.goodput_spread or 0.0 for t in curve]
        fits[name] = fit_usl(points, statistics.median(spreads))
    return fits
