"""The AM–GM counterexample problem and the exact first moment of SGD (theory.finite_horizon_mean).

References written here, independent of the code under test: the five matrices' facts by
enumeration of the 120 orders, the mean iterate by brute force over every order sequence
(and plain matrix powers for i.i.d. steps), and engine runs averaged over seeds.
"""

import itertools

import numpy as np
import pytest

from sgdbench import engine, problems, theory
from sgdbench.problems.amgm_quadratic import amgm_matrices

ONES = np.ones(5)
J = np.outer(ONES, ONES)


def _product(mats, order):
    """A_σ(last) ⋯ A_σ(first): the map of one pass in the given order (later steps act last)."""
    out = np.eye(5)
    for k in order:
        out = mats[k] @ out
    return out


def test_the_five_matrices_break_the_operator_amgm_inequality():
    a = amgm_matrices()
    for m in a:
        assert np.allclose(m, m.T)
        assert np.allclose(np.linalg.eigvalsh(m), [0, 1, 1, 1, 2], atol=1e-12)
    assert np.allclose(a.mean(0), np.eye(5), atol=1e-15)
    avg = np.mean([_product(a, p) for p in itertools.permutations(range(5))], axis=0)
    # (29/64)(I − J/5) − (19/16)(J/5): norm 19/16 > 1 = ‖(mean A)⁵‖
    np.testing.assert_allclose(avg, 29 / 64 * (np.eye(5) - J / 5) - 19 / 16 * J / 5, atol=1e-13)
    assert np.linalg.norm(avg, 2) == pytest.approx(19 / 16, rel=1e-13)


def test_problem_constants_and_gradients():
    p = problems.build("amgm_quadratic", scale=2.0)
    assert p.constants["L"] == p.constants["mu"] == 1.0 and p.constants["L_max"] == 2.0
    h = 2.0 * (np.eye(5) - amgm_matrices() / 2)
    q = theory.quadratic_form(p)
    np.testing.assert_allclose(q.hessians, h, atol=1e-12)
    np.testing.assert_allclose(q.grads, 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="x0 must list 5"):
        problems.build("amgm_quadratic", x0=[1.0, 2.0])


@pytest.mark.parametrize("gamma", [0.5, 1.0])
def test_exact_mean_against_brute_force(gamma):
    p = problems.build("amgm_quadratic")
    steps = np.eye(5) - gamma * (np.eye(5) - amgm_matrices() / 2)  # I − γH_k
    e0 = np.asarray(p.x0)
    perms = list(itertools.permutations(range(5)))
    ks = [1, 2]
    # rr: every sequence of two orders, equally likely
    want_rr = [np.mean([_product(steps, s) @ e0 for s in perms], axis=0),
               np.mean([_product(steps, s2) @ _product(steps, s1) @ e0
                        for s1 in perms for s2 in perms], axis=0)]  # fmt: skip
    np.testing.assert_allclose(theory.finite_horizon_mean(p, "rr", gamma, ks), want_rr, atol=1e-14)
    # so: one order for the run; cyclic: the order 0…4 every epoch
    want_so = [np.mean([np.linalg.matrix_power(_product(steps, s), k) @ e0 for s in perms], axis=0)
               for k in ks]  # fmt: skip
    np.testing.assert_allclose(theory.finite_horizon_mean(p, "so", gamma, ks), want_so, atol=1e-14)
    cyc = _product(steps, range(5))
    want_cyc = [np.linalg.matrix_power(cyc, k) @ e0 for k in ks]
    np.testing.assert_allclose(theory.finite_horizon_mean(p, "cyclic", gamma, ks), want_cyc, atol=1e-14)
    # wr: each step's map averages to I − γH̄ = (1 − γ/2)I
    want_wr = [(1 - gamma / 2) ** (5 * k) * e0 for k in ks]
    np.testing.assert_allclose(theory.finite_horizon_mean(p, "wr", gamma, ks), want_wr, atol=1e-14)


def test_at_the_counterexample_step_reshuffling_mean_contracts_by_19_over_512():
    p = problems.build("amgm_quadratic", x0=list(ONES))  # along 1, the worst direction
    m = theory.finite_horizon_mean(p, "rr", 1.0, [1, 2, 3])
    np.testing.assert_allclose(m, [(-19 / 512) ** k * ONES for k in (1, 2, 3)], rtol=1e-12)
    w = theory.finite_horizon_mean(p, "wr", 1.0, [1, 2, 3])
    np.testing.assert_allclose(w, [(1 / 32) ** k * ONES for k in (1, 2, 3)], rtol=1e-12)


@pytest.mark.parametrize("sampler", ["wr", "rr"])
def test_engine_mean_iterate_matches_the_exact_mean(sampler):
    """4,000 seeds at γ = 1: the mean of x after 1 and 2 epochs, per coordinate within
    4.5 standard errors of the seeds' spread (|z| < 4.5 for 10 values: false alarm < 1e-4)."""
    p = problems.build("amgm_quadratic")
    seeds = range(4000)
    res = engine.run_grid(engine.RunPlan(p, sampler, 1, [1.0], seeds, 2, dtype="float64",
                          checkpoints=np.array([0, 5, 10])))  # fmt: skip
    exact = theory.finite_horizon_mean(p, sampler, 1.0, [1, 2])
    for c, k in ((1, 0), (2, 1)):
        x = res.iterates[c, :, 0]  # (seeds, d)
        se = x.std(0, ddof=1) / np.sqrt(len(seeds))
        z = (x.mean(0) - exact[k]) / se
        assert np.all(np.abs(z) < 4.5), z
