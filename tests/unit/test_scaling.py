"""The scaling-law fit: parameters recovered from known curves, fewer of them when fewer pool
sizes were measured, and a poor fit said to be poor."""

from __future__ import annotations

import pytest

from tunekit.advice.scaling import fit_usl, predict


def usl_points(
    lam: float, sigma: float, kappa: float, counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
) -> list[tuple[int, float]]:
    return [(n, lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))) for n in counts]


def test_the_usl_fit_recovers_known_parameters() -> None:
    fit = fit_usl(usl_points(200.0, 0.05, 0.002))
    assert fit.fitted and not fit.poor and fit.parameters == 3
    assert fit.lambda_ == pytest.approx(200.0, rel=1e-3)
    assert fit.sigma == pytest.approx(0.05, abs=1e-3)
    assert fit.kappa == pytest.approx(0.002, abs=1e-4)
    assert fit.peak_workers == pytest.approx((0.95 / 0.002) ** 0.5, rel=1e-2)
    assert predict(fit, 64) == pytest.approx(usl_points(200.0, 0.05, 0.002, (64,))[0][1], rel=1e-2)


def test_three_sizes_fit_amdahls_law_without_the_coherency_term() -> None:
    fit = fit_usl(usl_points(100.0, 0.1, 0.0, counts=(1, 2, 8)))
    assert fit.fitted and fit.parameters == 2
    assert (fit.sigma, fit.kappa, fit.peak_workers) == (pytest.approx(0.1, abs=1e-3), 0.0, None)
    assert fit.reason == "Amdahl's law (no coherency term) fitted to 3 pool sizes, residuals 0%"


def test_two_sizes_are_no_fit() -> None:
    fit = fit_usl([(1, 100.0), (2, 190.0)])
    assert not fit.fitted
    assert fit.reason == (
        "2 pool sizes measured; a fit needs 3 (Amdahl's law) or 4 (the Universal Scalability Law)"
    )
    assert predict(fit, 4) is None


def test_a_poor_fit_says_to_rely_on_the_measured_curve() -> None:
    zigzag = [(1, 100.0), (2, 300.0), (3, 90.0), (4, 400.0), (5, 80.0), (6, 500.0)]
    fit = fit_usl(zigzag, noise=0.02)
    assert fit.fitted and fit.poor
    assert fit.reason.endswith("rely on the measured curve")
    assert predict(fit, 8) is None


def test_curves_are_fitted_per_backend_with_the_sequential_baseline_as_a_pool_of_one() -> None:
    from tunekit.advice.scaling import fit_curves
    from tunekit.models import Trial

    def measured(backend: str, workers: int, value: float) -> Trial:
        return Trial(
            backend=backend,
            workers=workers,
            status="ok",
            tasks=100,
            repeats=3,
            throughput=value,
            throughput_spread=0.0,
            throughput_values=[value] * 3,
            wall_s=0.1,
        )

    amdahl = dict(usl_points(100.0, 0.1, 0.0, counts=(1, 2, 4, 8)))
    trials = [measured("sequential", 1, amdahl[1])]
    trials += [measured("thread", n, amdahl[n]) for n in (2, 4, 8)]
    trials.append(Trial(backend="process", workers=2, status="failed", reason="boom"))
    fits = fit_curves(trials, ["thread", "process"])
    assert set(fits) == {"thread"}  # a backend with nothing usable gets no fit
    assert fits["thread"].fitted and fits["thread"].lambda_ == pytest.approx(100.0, rel=1e-2)
    assert fits["thread"].sigma == pytest.approx(0.1, abs=1e-2)
