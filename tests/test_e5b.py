"""E5b: steps to target, the critical-batch fit and Gower et al.'s optimal batch size."""

import numpy as np
import pandas as pd
import pytest

from sgdbench import problems, theory
from sgdbench.experiments.e5b import measure as e5b


@pytest.mark.parametrize(
    "n,lip,lip_max,mu,s2,eps",
    [
        (256, 5.0, 40.0, 0.5, 3.0, 1e-3),
        (1000, 1.0, 10.0, 0.01, 0.5, 1e-2),
        (100, 2.0, 2.5, 1.0, 1.0, 0.1),
    ],
)
def test_gower_optimal_batch_minimises_the_bounds_gradient_count(n, lip, lip_max, mu, s2, eps):
    b = np.arange(1, n + 1)
    count = theory.gower_complexity(n, b, lip, lip_max, mu, s2, eps, r0=10.0)
    b_star = theory.gower_optimal_batch(n, lip, lip_max, mu, s2, eps)
    assert b[np.argmin(count)] in (np.floor(b_star), np.ceil(b_star))  # brute force vs closed form


def test_expected_smoothness_and_noise_at_the_ends():
    n, lip, lip_max, s2 = 50, 2.0, 9.0, 4.0
    assert theory.expected_smoothness(n, 1, lip, lip_max) == pytest.approx(lip_max)
    assert theory.expected_smoothness(n, n, lip, lip_max) == pytest.approx(lip)
    assert theory.nice_noise(n, 1, s2) == pytest.approx(s2) and theory.nice_noise(n, n, s2) == 0


def test_first_reach_takes_the_first_checkpoint_at_or_below_target():
    steps = np.array([0, 1, 2, 5, 10])
    metric = np.array([[9.0, 9.0], [5.0, 9.0], [0.9, 9.0], [2.0, 8.0], [0.5, 3.0]])
    np.testing.assert_array_equal(e5b.first_reach(metric, steps, 1.0), [2.0, np.inf])


def test_critical_batch_fit_recovers_a_known_model_and_flags_pure_linear_scaling():
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256])
    frame = pd.DataFrame({"batch_size": b, "steps": 100 * (1 + 30 / b)})
    s_min, b_crit = e5b.fit_critical_batch(frame)
    assert s_min == pytest.approx(100, rel=1e-6) and b_crit == pytest.approx(30, rel=1e-6)
    linear = pd.DataFrame({"batch_size": b, "steps": 5000.0 / b})  # no saturation on the grid
    assert e5b.fit_critical_batch(linear)[1] == np.inf


def test_full_batch_steps_to_target_match_a_numpy_gradient_descent():
    spec = {"name": "least_squares", "params": {"n": 24, "d": 3}, "metric": "dist_sq",
            "tolerances": [0.01]}  # fmt: skip
    settings = {"sampler": "wor", "batch_sizes": ["full"], "step_factors": [0.5, 1.0], "seeds": 2,
                "seed": 0, "max_epochs": 200, "log_points": 400}  # fmt: skip
    chains, info, _ = e5b.measure_problem("ls", spec, settings)
    p = problems.from_spec(spec)
    a, y = np.asarray(p.data["a"]), np.asarray(p.data["b"])
    x_star, lip = np.asarray(p.x_star), p.constants["L"]
    for factor in (0.5, 1.0):
        x, r0 = np.asarray(p.x0).copy(), float(np.sum((np.asarray(p.x0) - x_star) ** 2))
        k = 0
        while np.sum((x - x_star) ** 2) > 0.01 * r0:  # b = n without replacement is plain GD
            x = x - factor / lip * a.T @ (a @ x - y) / len(y)
            k += 1
        got = chains[chains["step_factor"] == factor]["steps"]
        assert (got == k).all(), (factor, k, got.tolist())
    assert info[0]["b_star"] > 0 and np.isfinite(info[0]["b_simple"])


def test_without_replacement_model_recovers_its_parameters_and_flags_unidentified_b_crit():
    """S(b) = S_min(1 + B (n − b)/(b(n − 1))) is fitted exactly; an interval past n is flagged."""
    n = 256
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256], float)
    steps = 100 * (1 + 30 * (n - b) / (b * (n - 1)))
    frame = pd.DataFrame({"batch_size": b, "steps": steps})
    s_min, b_crit, rms = e5b.fit_critical_batch(frame, n, with_residual=True)
    assert (
        s_min == pytest.approx(100, rel=1e-6)
        and b_crit == pytest.approx(30, rel=1e-6)
        and rms < 1e-8
    )
    assert e5b.noise_factor(n, n) == 0 and e5b.noise_factor(4) == 0.25
    chains = pd.DataFrame([{"problem": "p", "tolerance": 0.1, "batch_size": bb, "step_factor": 1.0,
                            "seed": s, "steps": st * (1 + 0.01 * s), "epochs": st * bb / n}
                           for s in range(4) for bb, st in zip(b, steps, strict=True)])  # fmt: skip
    row = e5b.fits(chains, boot=20, seed=0, sizes={"p": n}).iloc[0]
    assert row["identified"] and row["identified_wor"]
    assert row["b_crit_wor_lo"] <= 30 * 1.05 and row["b_crit_wor_hi"] >= 30 * 0.95
