"""The Universal Scalability Law fitted to one backend's measured throughput curve.

    X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1))

sigma is contention (serialized work: a lock, the GIL), kappa coherency (crosstalk that makes
more workers slower). Fitted by bounded least squares on relative residuals, so fast and slow
configurations weigh alike. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tunekit.models import ScalingFit

if TYPE_CHECKING:  # numpy and scipy load only when a fit is made
    import numpy as np

#: Fewer distinct worker counts than this and three parameters are not identifiable.
MIN_POINTS = 6
#: A fit whose RMS relative residual exceeds this multiple of the measured noise is poor.
POOR_FIT_NOISE_FACTOR = 2.0
#: ... and never call a fit poor below this residual (5%: the noise floor of a shared machine).
MIN_POOR_FIT_RESIDUAL = 0.05


def usl(workers: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    """Throughput the USL predicts at ``workers``."""
    n = workers
    return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))  # type: ignore[no-any-return]


def fit_usl(
    points: Sequence[tuple[int, float]], noise: float = 0.0, min_points: int = MIN_POINTS
) -> ScalingFit:
    """Fit (workers, throughput) points; ``noise`` is the typical relative spread of a point."""
    by_workers: dict[int, list[float]] = {}
    for workers, throughput in points:
        if throughput > 0:
            by_workers.setdefault(workers, []).append(throughput)
    import numpy as np
    from scipy.optimize import least_squares

    n_points = len(by_workers)
    if n_points < min_points:
        return ScalingFit(
            n_points, False, f"{n_points} worker counts measured; the fit needs {min_points}"
        )
    n = np.array(sorted(by_workers), dtype=float)
    x = np.array([float(np.median(by_workers[int(k)])) for k in n])
    start_lambda = float(x[0] / n[0])

    def residuals(params: np.ndarray) -> np.ndarray:
        return (usl(n, *params) - x) / x  # type: ignore[no-any-return]

    result = least_squares(
        residuals,
        x0=[start_lambda, 0.05, 0.001],
        bounds=([0.0, 0.0, 0.0], [np.inf, 1.0, 1.0]),
    )
    lam, sigma, kappa = (float(v) for v in result.x)
    rms = float(math.sqrt(float(np.mean(result.fun**2))))
    poor = rms > max(POOR_FIT_NOISE_FACTOR * noise, MIN_POOR_FIT_RESIDUAL)
    peak = math.sqrt((1 - sigma) / kappa) if kappa > 1e-12 else None
    if poor:
        reason = (
            f"poor fit: residuals {rms:.0%} are well above the {noise:.0%} noise; "
            "rely on the measured curve"
        )
    else:
        reason = f"fitted to {n_points} worker counts, residuals {rms:.0%}"
    return ScalingFit(n_points, True, reason, lam, sigma, kappa, peak, rms, poor)
