"""Exact stationary error on quadratics (sgdbench.stationary) against independent references:
a NumPy loop that propagates the mean and second moment step by step over every
batch or order, enumeration against the closed form, and long engine runs."""

import dataclasses
import itertools

import numpy as np
import pytest
from scipy import stats

from sgdbench import engine, problems, samplers, theory
from sgdbench.quadratic_moments import Quadratic, quadratic_form
from sgdbench.schedules import Schedule
from sgdbench.stationary import stationary_mse


def _least_squares(n, d, seed):
    rng = np.random.default_rng(seed)
    a, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    hess = np.einsum("ni,nj->nij", a, a)
    x_star = np.linalg.solve(hess.mean(0), (a * y[:, None]).mean(0))
    return Quadratic(hess, a * (a @ x_star - y)[:, None])


def _moments_loop(q, gamma, b, name, p=None, blocks=1500):
    """Stationary E‖e‖² by propagating (E e, E eeᵀ) one step at a time: no Kronecker
    products, no epoch maps, every batch or order listed explicitly."""
    a, g, n, d = q.hessians, q.grads, q.n, q.dim

    def step(m, s, batch, w):
        p_ = np.eye(d) - gamma * np.mean([w[i] * a[i] for i in batch], 0)
        c = gamma * np.mean([w[i] * g[i] for i in batch], 0)
        pm = p_ @ m
        return pm - c, p_ @ s @ p_.T - np.outer(pm, c) - np.outer(c, pm) + np.outer(c, c)

    m, s = np.zeros(d), np.zeros((d, d))
    if name in ("wr", "wor", "importance"):
        p = np.full(n, 1.0 / n) if p is None else p
        w = 1.0 / (n * p) if name == "importance" else np.ones(n)
        if name == "wor":
            batches = [(c, 1.0 / math_comb(n, b)) for c in itertools.combinations(range(n), b)]
        else:
            batches = [(t, np.prod(p[list(t)])) for t in itertools.product(range(n), repeat=b)]
        for _ in range(blocks * n):
            new = [step(m, s, bt, w) for bt, _ in batches]
            m = sum(pr * nm for (_, pr), (nm, _) in zip(batches, new, strict=True))
            s = sum(pr * ns for (_, pr), (_, ns) in zip(batches, new, strict=True))
        return np.trace(s)
    ones = np.ones(n)
    orders = [np.array(o) for o in itertools.permutations(range(n))]
    if name in ("so", "cyclic"):
        sq = []
        for o in orders if name == "so" else [np.arange(n)]:
            e = np.zeros(d)
            for _ in range(blocks):
                for batch in o.reshape(-1, b):
                    e = e - gamma * (a[batch].mean(0) @ e + g[batch].mean(0))
            sq.append(e @ e)
        return np.mean(sq)
    epochs = (lambda o: [o, o[::-1]]) if name == "flipflop" else (lambda o: [o])
    for _ in range(blocks):
        acc_m, acc_s = 0 * m, 0 * s
        for o in orders:
            mm, ss = m, s
            for epoch in epochs(o):
                for batch in epoch.reshape(-1, b):
                    mm, ss = step(mm, ss, batch, ones)
            acc_m, acc_s = acc_m + mm, acc_s + ss
        m, s = acc_m / len(orders), acc_s / len(orders)
    return np.trace(s)


def math_comb(n, k):
    from math import comb

    return comb(n, k)


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize(
    ("name", "b"),
    [
        ("wr", 1),
        ("wr", 2),
        ("wor", 2),
        ("importance", 2),
        ("rr", 1),
        ("rr", 2),
        ("so", 1),
        ("cyclic", 1),
        ("flipflop", 1),
    ],  # fmt: skip
)
def test_exact_form_equals_the_step_by_step_moment_loop(name, b, d):
    n = 4
    q = _least_squares(n, d, seed=10 * d + b)
    lip = np.einsum("nii->n", q.hessians)  # ‖a_i‖², the L_i of rank-one components
    gamma = 0.4 / lip.max()
    if name == "importance":
        sampler = dataclasses.replace(samplers.get("importance"))
        law = samplers.BatchLaw(lip / lip.sum(), lip.sum() / (n * lip), replacement=True)
        sampler = _WithLaw(law)
        want = _moments_loop(q, gamma, b, name, p=lip / lip.sum(), blocks=300)
    else:
        sampler = name
        want = _moments_loop(q, gamma, b, name, blocks=300 if name in ("wr", "wor") else 1500)
    got = stationary_mse(q, sampler, gamma, b)
    assert got == pytest.approx(want, rel=1e-10)


@dataclasses.dataclass(frozen=True)
class _WithLaw(samplers.Sampler):
    """A sampler that only declares a law (exact theory needs nothing else)."""

    the_law: object = None

    def __init__(self, law):
        object.__setattr__(self, "the_law", law)
        for f, v in dict(name="law", label="law", color="k", with_replacement=True,
                         epoch_based=False, uniform_marginal=False, weighted=True).items():  # fmt: skip
            object.__setattr__(self, f, v)

    def law(self, problem):
        return self.the_law


def _commuting(n, d, seed):
    rng = np.random.default_rng(seed)
    if d == 1:
        return _least_squares(n, 1, seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    hess = np.array([basis @ np.diag(rng.uniform(0.5, 2.0, d)) @ basis.T for _ in range(n)])
    g = rng.standard_normal((n, d))
    return Quadratic(hess, g - g.mean(0))


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("n", [2, 4, 6])
@pytest.mark.parametrize("name", ["rr", "so", "flipflop"])
def test_closed_form_equals_enumeration_over_all_orders(name, n, d):
    q = _commuting(n, d, seed=n + d)
    lip = max(np.linalg.eigvalsh(h).max() for h in q.hessians)
    for gl in (0.05, 0.5, 1.5):  # small, moderate and past 1/L_max (c_i < 0)
        want = stationary_mse(q, name, gl / lip, method="enumerate")
        got = stationary_mse(q, name, gl / lip, method="closed_form")
        assert got == pytest.approx(want, rel=1e-10)


def test_with_replacement_formula_of_1d_least_squares():
    """V = γσ*²/(2h − γm4), the closed form E2 used before, is the b = 1 case."""
    p = problems.build("roc1d", n=20)
    h, m4, s2 = p.info["h"], p.info["m4"], p.constants["sigma_star_sq"]
    for gh in (0.01, 0.3, 1.0):
        gamma = gh / h
        assert stationary_mse(p, "wr", gamma) == pytest.approx(
            gamma * s2 / (2 * h - gamma * m4), rel=1e-12
        )


def test_divergent_step_sizes_give_inf_and_non_quadratics_are_refused():
    p = problems.build("roc1d", n=20)
    big = 5.0 / p.info["h"]  # past every stability limit: 2h/m4 (wr), |Π(1 − γa_i²)| < 1 (orders)
    for name in ("wr", "rr", "so", "cyclic"):
        assert stationary_mse(p, name, big) == np.inf
    with pytest.raises(ValueError, match="not a quadratic"):
        quadratic_form(problems.build("logistic", dataset="synthetic", n=16, d=2))
    with pytest.raises(ValueError, match="do not commute"):
        stationary_mse(_least_squares(9, 2, 0), "rr", 0.01)
    with pytest.raises(ValueError, match="must divide"):
        stationary_mse(_least_squares(6, 2, 0), "rr", 0.01, batch_size=4)


def test_theory_exposes_it():
    assert theory.stationary_mse is stationary_mse


# ---- long engine runs within Monte Carlo intervals ------------------------------------


def _engine_mse(problem, name, gamma, b, seeds, blocks, burn):
    """Per-chain mean of ‖x − x*‖² over block ends after a burn-in, and its chain-to-chain s.e."""
    s = samplers.get(name)
    n = problem.n
    block = n // b * (2 if name == "flipflop" else 1) if s.epoch_based else 1
    total = blocks * block
    ends = np.arange(burn * block, total + 1, block)
    res = engine.run_grid(engine.RunPlan(problem, name, b, [gamma], range(seeds), total / (n / b), Schedule(),
                          "float64", checkpoints=np.concatenate([[0], ends])))  # fmt: skip
    x = np.asarray(res.iterates)[1:, :, 0].reshape(len(ends), seeds, -1)
    sq = ((x - np.asarray(problem.x_star)) ** 2).sum(-1)  # (ends, seeds)
    per_chain = sq.mean(0)
    return per_chain.mean(), per_chain.std(ddof=1) / np.sqrt(seeds)


@pytest.mark.parametrize("name", ["wr", "wor", "importance", "rr", "so", "cyclic", "flipflop"])
def test_long_engine_runs_agree_within_monte_carlo_intervals(name, alpha):
    """roc1d (1-D: the closed form) at γh = 0.3, chains started at x*; z from 256 chains."""
    p = problems.build("roc1d", n=20)
    p = dataclasses.replace(p, x0=p.x_star)
    gamma = 0.3 / p.info["h"]
    want = stationary_mse(p, name, gamma)
    burn = 20 if samplers.get(name).epoch_based else 400  # (1 − γh)^(20 n) < 1e-30
    blocks = 120 if samplers.get(name).epoch_based else 2400
    got, se = _engine_mse(p, name, gamma, 1, 256, blocks, burn)
    if name == "cyclic":  # deterministic: every chain is the same fixed point
        assert got == pytest.approx(want, rel=1e-9)
        return
    z = stats.norm.ppf(1 - alpha / 2 / 7)  # Bonferroni over the seven samplers
    assert abs(got - want) < z * se, (got, want, se)


@pytest.mark.parametrize("name", ["rr", "so", "flipflop"])
def test_engine_agrees_with_enumeration_in_two_dimensions(name, alpha):
    """Least squares in 2-D with n = 6 and b = 2: non-commuting components, exact by enumeration."""
    p = problems.build("least_squares", n=6, d=2, cond=3.0, noise=0.5)
    p = dataclasses.replace(p, x0=p.x_star)
    gamma = 0.5 / p.constants["L_max"]
    want = stationary_mse(p, name, gamma, batch_size=2)
    got, se = _engine_mse(p, name, gamma, 2, 256, 200, 40)
    z = stats.norm.ppf(1 - alpha / 2 / 3)
    assert abs(got - want) < z * se, (got, want, se)


# ---- the exact finite-horizon path of i.i.d.-batch samplers ----------------------------


@pytest.mark.parametrize(("name", "b"), [("wr", 1), ("wr", 2), ("wor", 2)])
def test_expected_path_equals_enumeration_of_every_batch_sequence_step(name, b):
    """Two dimensions, n = 4: E‖e_t‖² by averaging the exact next error over every batch."""
    p = problems.build("least_squares", n=4, d=2, cond=3.0, noise=0.5)
    q = quadratic_form(p)
    gamma = 0.4 / p.constants["L_max"]
    if name == "wr":
        batches = list(itertools.product(range(4), repeat=b))
    else:
        batches = list(itertools.combinations(range(4), b))
    # Every error reachable after t steps, with its probability: (4^b)^t points for t ≤ 4.
    points = [(np.asarray(p.x0 - p.x_star, float), 1.0)]
    want = [float(points[0][0] @ points[0][0])]
    for _ in range(4):
        points = [(e - gamma * (q.hessians[list(bt)].mean(0) @ e + q.grads[list(bt)].mean(0)), pr / len(batches))
                  for e, pr in points for bt in batches]  # fmt: skip
        want.append(sum(pr * float(e @ e) for e, pr in points))
    got = theory.expected_mse_path(p, name, gamma, 4, batch_size=b)
    np.testing.assert_allclose(got, want, rtol=1e-11)


def test_expected_path_agrees_with_engine_runs(alpha):
    """roc1d from its far start: the engine's mean squared error over 2,000 seeds at five steps."""
    p = problems.build("roc1d", n=20)
    gamma = 0.1 / p.info["h"]
    steps = np.array([0, 5, 20, 60, 200, 600])
    res = engine.run_grid(engine.RunPlan(p, "wr", 1, [gamma], range(2000), 30, Schedule(), "float64",
                          checkpoints=steps))  # fmt: skip
    sq = (np.asarray(res.x)[:, :, 0] - float(p.x_star[0])) ** 2  # (steps, seeds)
    want = theory.expected_mse_path(p, "wr", gamma, int(steps[-1]))[steps]
    z = stats.norm.ppf(1 - alpha / 2 / (len(steps) - 1))
    mean, se = sq.mean(1), sq.std(1, ddof=1) / np.sqrt(sq.shape[1])
    assert mean[0] == pytest.approx(want[0], rel=1e-12)  # the start is deterministic
    assert np.all(np.abs(mean[1:] - want[1:]) < z * se[1:]), (mean, want, se)


def test_reshuffling_bias_is_the_leading_term_of_the_exact_stationary_mean():
    """β = ½H⁻¹(1/n)ΣA_i g_i: the exact rr epoch-end mean (all 6! orders, 2-D) is −γβ + O(γ²),
    and in 1-D (closed form, n = 20) the stationary error is γ²‖β‖² + O(γ³)."""
    from sgdbench.quadratic_moments import block_map, reshuffling_bias

    p = problems.build("least_squares", n=6, d=2, cond=3.0, noise=0.5)
    q, beta = quadratic_form(p), reshuffling_bias(p)
    for gl in (1e-3, 1e-4):
        gamma = gl / p.constants["L_max"]
        maps = [
            block_map(q, ("identity",), np.array(o), gamma, 1)
            for o in itertools.permutations(range(6))
        ]
        phi, psi = np.mean([m[0] for m in maps], 0), np.mean([m[1] for m in maps], 0)
        mean = np.linalg.solve(np.eye(2) - phi, psi)
        np.testing.assert_allclose(mean / -gamma, beta, rtol=5 * gl)  # the O(γ²) remainder
    r = problems.build("roc1d", n=20)
    beta = reshuffling_bias(r)
    gamma = 1e-7 / r.info["h"]
    assert stationary_mse(r, "rr", gamma) / (gamma**2 * float(beta @ beta)) == pytest.approx(
        1, abs=0.01
    )


# ---- the exact finite-horizon error of every law ---------------------------------------


def _brute_force_horizon(p, name, gamma, epochs):
    """E‖e_K‖² by walking every sequence of epoch orders the sampler can draw (n = 4): one
    order per epoch for rr, one for the run for so, (π, reversed π) pairs for flipflop."""
    q = quadratic_form(p)
    e0 = np.asarray(p.x0) - np.asarray(p.x_star)

    def walk(e, order):
        for i in order:
            e = e - gamma * (q.hessians[i] @ e + q.grads[i])
        return e

    perms = [np.array(o) for o in itertools.permutations(range(p.n))]
    if name == "cyclic":
        orders = [[np.arange(p.n)] * epochs]
    elif name == "so":
        orders = [[o] * epochs for o in perms]
    elif name == "flipflop":
        orders = [
            sum(([o, o[::-1]] for o in seq), [])
            for seq in itertools.product(perms, repeat=epochs // 2)
        ]
    else:
        orders = [list(seq) for seq in itertools.product(perms, repeat=epochs)]
    values = []
    for seq in orders:
        e = e0
        for order in seq:
            e = walk(e, order)
        values.append(e @ e)
    return float(np.mean(values))


@pytest.mark.parametrize(
    ("name", "epochs"), [("rr", 2), ("so", 3), ("cyclic", 3), ("flipflop", 2), ("flipflop", 4)]
)
def test_finite_horizon_equals_brute_force_over_every_order_sequence(name, epochs):
    """Non-commuting 2-D least squares, n = 4 (enumeration inside, brute force outside)."""
    p = problems.build("least_squares", n=4, d=2, cond=3.0, noise=0.5)
    gamma = 0.4 / p.constants["L_max"]
    want = _brute_force_horizon(p, name, gamma, epochs)
    got = theory.finite_horizon_mse(p, name, gamma, epochs)
    assert got == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize(("name", "b"), [("wr", 1), ("wr", 2), ("wor", 2), ("importance", 1)])
def test_finite_horizon_of_iid_batches_equals_the_step_by_step_path(name, b):
    p = problems.build("least_squares", n=4, d=2, cond=3.0, noise=0.5)
    gamma = 0.4 / p.constants["L_max"]
    path = theory.expected_mse_path(p, name, gamma, 5 * p.n // b, b)
    got = theory.finite_horizon_mse(p, name, gamma, [0, 1, 3, 5], b)
    np.testing.assert_allclose(got, path[[0, p.n // b, 3 * p.n // b, 5 * p.n // b]], rtol=1e-10)


@pytest.mark.parametrize("name", ["rr", "so", "flipflop"])
def test_finite_horizon_closed_form_equals_enumeration_and_tends_to_the_stationary_error(name):
    p = problems.build("commuting_quadratic", n=6, d=3, cond=20.0)
    gamma = 0.3
    ks = [2, 4, 10]
    closed = theory.finite_horizon_mse(p, name, gamma, ks, method="closed_form")
    np.testing.assert_allclose(closed, theory.finite_horizon_mse(p, name, gamma, ks, method="enumerate"),
                               rtol=1e-10)  # fmt: skip
    far = theory.finite_horizon_mse(p, name, gamma, 4000, method="closed_form")
    assert far == pytest.approx(stationary_mse(p, name, gamma), rel=1e-9)


@pytest.mark.parametrize(("name", "epochs"), [("wr", 3), ("rr", 3), ("so", 3), ("flipflop", 4)])
def test_finite_horizon_agrees_with_engine_runs(name, epochs, alpha):
    """n = 16 commuting components (closed form), 4,000 chains from x0 = x* + 1."""
    p = problems.build("commuting_quadratic", n=16, d=2, cond=10.0)
    gamma = 0.2
    want = theory.finite_horizon_mse(p, name, gamma, epochs)
    total = samplers.num_steps(p.n, 1, epochs)
    res = engine.run_grid(engine.RunPlan(p, name, 1, [gamma], range(4000), epochs, Schedule(), "float64",
                          checkpoints=np.array([0, total])))  # fmt: skip
    sq = res.metrics["dist_sq"][-1, :, 0]
    z = stats.norm.ppf(1 - alpha / 2 / 4)
    assert abs(sq.mean() - want) < z * sq.std(ddof=1) / np.sqrt(len(sq)), (sq.mean(), want)


def test_finite_horizon_refuses_what_it_cannot_compute():
    p = problems.build("least_squares", n=12, d=2)
    with pytest.raises(ValueError, match="do not commute"):
        theory.finite_horizon_mse(p, "rr", 0.01, 2)
    with pytest.raises(ValueError, match="multiples of 2"):
        theory.finite_horizon_mse(
            problems.build("commuting_quadratic", n=6, d=2), "flipflop", 0.1, 3
        )
    with pytest.raises(ValueError, match="whole batches"):
        theory.finite_horizon_mse(p, "wr", 0.01, 2, batch_size=5)


@pytest.mark.parametrize(("transforms", "draw"), [(("identity", "reverse"), "once"), (("reverse",), "fresh")])
def test_auto_enumerates_order_laws_no_closed_form_covers(transforms, draw):
    """auto prefers the closed form on commuting Hessians, but only for the laws it is written
    for: a plugin's other order law on n <= 8 is still enumerated (it used to raise)."""

    @dataclasses.dataclass(frozen=True)
    class Law(samplers.IndexStream):
        def law(self, problem):
            return samplers.OrderLaw(transforms, draw)

    s = Law("law", "law", "#000000", with_replacement=False, epoch_based=True)
    p = problems.build("commuting_quadratic", n=4, d=2, seed=0)
    q = quadratic_form(p)
    # Where auto takes a closed form the two exact methods agree to rounding.
    auto, enum = stationary_mse(q, s, 0.1, method="auto"), stationary_mse(q, s, 0.1, method="enumerate")
    np.testing.assert_allclose(auto, enum, rtol=1e-12)
    ks = [len(transforms) * 3]
    np.testing.assert_allclose(theory.finite_horizon_mse(p, s, 0.1, ks),
                               theory.finite_horizon_mse(p, s, 0.1, ks, method="enumerate"), rtol=1e-12)  # fmt: skip
