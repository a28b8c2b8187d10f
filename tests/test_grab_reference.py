"""``grab`` and ``pairgrab`` against their authors' released implementation, ``grab-sampler``
(its ``MeanBalance`` and ``PairBalance`` sorters, PyTorch): the same orders, epoch by epoch.

The authors' sampler drives a plain NumPy SGD loop here: it hands out each epoch's order,
is shown the per-example gradients of each batch at the iterate that batch is taken at,
and balances them into the next epoch's order. The engine runs the same problem with the
same first order (the authors' first order is their own random draw; it is set to the
chain's) and records its order at every epoch start. Both must agree exactly, and the
iterates to rounding.

``grab-sampler`` needs PyTorch and is not in the ``test`` extra (its ``torch-sparse``
dependency, used only for sparse random projections, does not build from PyPI); a stub
module stands in for ``torch-sparse``. Without the package the tests skip, except where
``SGDBENCH_REQUIRE_GRAB_SAMPLER=1`` (``.ci/run`` installs it and sets that), where a skip
would hide the comparison and is a failure instead.
"""

import os
import sys
import types

import jax
import numpy as np
import pytest

from sgdbench import engine, problems


def _grabsampler():
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        sys.modules.setdefault("torch_sparse", types.SimpleNamespace(SparseTensor=None))
        try:
            import grabsampler
        except ImportError:
            grabsampler = None
    if torch is None or grabsampler is None:
        if os.environ.get("SGDBENCH_REQUIRE_GRAB_SAMPLER") == "1":
            pytest.fail("grab-sampler is required here (SGDBENCH_REQUIRE_GRAB_SAMPLER=1) but "
                        "does not import: pip install torch==2.13.0 overrides absl-py && "
                        "pip install --no-deps grab-sampler==0.1.3")  # fmt: skip
        pytest.skip("grab-sampler (and PyTorch) not installed")
    return torch, grabsampler


def _authors_run(p, balance, b, gamma, epochs, first_order):
    """NumPy SGD on least squares in the order the authors' sorter gives; the order each
    epoch visited and the iterate after every step."""
    torch, grabsampler = _grabsampler()
    a, y = np.asarray(p.data["a"], np.float64), np.asarray(p.data["b"], np.float64)
    n, d = a.shape
    # The sorter itself: grab-sampler's GraBSampler wrapper (an epoch starts with
    # sorter.reset_epoch() and iterates sorter.orders; step() forwards to sorter.step) no
    # longer constructs under PyTorch >= 2.13, whose Sampler.__init__ takes no data source.
    sorter = getattr(grabsampler.sorter, balance)(n, d, device="cpu", dtype=torch.float64)
    first = torch.as_tensor(np.array(first_order), dtype=torch.int64)
    sorter.orders.copy_(first)  # the epoch start copies next_orders into orders
    sorter.next_orders.copy_(first)
    x, orders, iterates = np.asarray(p.x0, np.float64).copy(), [], []
    for _ in range(epochs):
        sorter.reset_epoch()
        order = sorter.orders.numpy().copy()
        orders.append(order)
        for start in range(0, n, b):
            idx = order[start : start + b]
            per = a[idx] * (a[idx] @ x - y[idx])[:, None]
            sorter.step({"x": torch.as_tensor(per)})
            x = x - gamma * per.mean(0)
            iterates.append(x.copy())
    return orders, np.array(iterates)


def _engine_run(p, sampler, b, gamma, epochs, seed):
    n = p.n
    total = epochs * n // b
    res = engine.run_grid(engine.RunPlan(p, sampler, b, [gamma], [seed], epochs, dtype="float64",
                                         checkpoints=np.arange(total + 1), record_state=True))  # fmt: skip
    starts = np.arange(epochs) * (n // b)
    return [np.asarray(res.sampler_states["order"][k, 0, 0]) for k in starts], res.iterates[1:, 0, 0]


@pytest.mark.parametrize(("sampler", "balance"), [("grab", "MeanBalance"), ("pairgrab", "PairBalance")])
@pytest.mark.parametrize(("n", "b"), [(12, 1), (12, 4), (10, 5)])
def test_orders_are_the_authors_epoch_by_epoch(sampler, balance, n, b):
    p = problems.build("least_squares", n=n, d=3, cond=5.0, noise=0.5, seed=2)
    gamma, epochs, seed = 0.05, 5, 7
    first = np.asarray(jax.random.permutation(jax.random.PRNGKey(seed), n))
    ours, our_x = _engine_run(p, sampler, b, gamma, epochs, seed)
    theirs, their_x = _authors_run(p, balance, b, gamma, epochs, first)
    assert len(ours) == len(theirs) == epochs
    for k, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        np.testing.assert_array_equal(o, t, err_msg=f"{sampler}, n = {n}, b = {b}: epoch {k}")
    assert not all(np.array_equal(theirs[0], t) for t in theirs[1:])  # the orders did move
    np.testing.assert_allclose(our_x, their_x, rtol=1e-10, atol=1e-12)


def test_the_reversed_tie_rule_gives_the_reversed_order():
    """Why the tie rule matters: the same epoch balanced with the first example sent to +1
    (the paper's ‖s + c‖ ≤ ‖s − c‖) is the authors' order reversed, not another order."""
    torch, grabsampler = _grabsampler()
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((9, 4))
    sorter = grabsampler.sorter.MeanBalance(9, 4, random_first_epoch=False, device="cpu",
                                            dtype=torch.float64)  # fmt: skip
    sorter.reset_epoch()
    sorter.step({"g": torch.as_tensor(grads)})
    sorter.reset_epoch()
    s, front, back = np.zeros(4), [], []
    for i, c in enumerate(grads):
        if np.sum((s + c) ** 2) <= np.sum((s - c) ** 2):
            s, front = s + c, front + [i]
        else:
            s, back = s - c, back + [i]
    np.testing.assert_array_equal(sorter.orders.numpy(), (front + back[::-1])[::-1])
