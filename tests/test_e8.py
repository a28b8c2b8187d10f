"""E8: the timed kernels compute the same SGD, and the per-epoch accounting is as documented."""

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from sgdbench.experiments.e8 import EXPERIMENT as REGISTERED_E8
from sgdbench.experiments.e8 import measure as e8


def test_streaming_a_permuted_copy_runs_the_same_sgd_as_gathering():
    rng = np.random.default_rng(0)
    n, d, b = 96, 5, 8
    data = {"a": jnp.asarray(rng.standard_normal((n, d))), "y": jnp.asarray(rng.standard_normal(n))}
    perm = rng.permutation(n)
    x0, gamma = jnp.zeros(d), 0.05
    gathered = e8._gather_epoch(x0, data, jnp.asarray(perm.reshape(-1, b)), gamma)
    streamed = e8._stream_epoch(x0, e8._permuted_copy(data, jnp.asarray(perm)), gamma,
                                steps=n // b, b=b)  # fmt: skip
    np.testing.assert_allclose(np.asarray(streamed), np.asarray(gathered), rtol=1e-12)
    # and both are plain mini-batch SGD on ½(aᵀx − y)², as a NumPy loop runs it
    x, a, y = np.zeros(d), np.asarray(data["a"]), np.asarray(data["y"])
    for rows in perm.reshape(-1, b):
        x = x - gamma * a[rows].T @ (a[rows] @ x - y[rows]) / b
    np.testing.assert_allclose(np.asarray(gathered), x, rtol=1e-10)


def test_breakdown_amortises_shuffle_once_and_gives_cyclic_no_copy():
    table = pd.DataFrame([
        {"n": 10, "batch_size": 1, "sampler": s, "index": 1.0, "gather": 5.0, "copy": 3.0, "stream": 2.0}
        for s in ("wr", "rr", "so", "cyclic")
    ])  # fmt: skip
    out = e8.totals(table, epochs=4).set_index("sampler")
    assert out.loc["wr", "gather_total"] == 6.0 and np.isnan(out.loc["wr", "stream_total"])
    assert out.loc["rr", "stream_total"] == 1.0 + 3.0 + 2.0
    assert out.loc["so", "stream_total"] == pytest.approx((1.0 + 3.0) / 4 + 2.0)
    assert out.loc["so", "gather_total"] == pytest.approx(1.0 / 4 + 5.0)
    assert out.loc["cyclic", "stream_total"] == 1.0 + 2.0


def test_measure_times_every_part_and_scales_long_epochs():
    settings = {"sizes": [300], "batch_sizes": [1, 16, 512], "samplers": ["wr", "rr", "cyclic"],
                "d": 4, "max_steps": 100, "repeats": 1, "epochs": 5, "seed": 0}  # fmt: skip
    table = e8.measure(settings)
    assert set(table["batch_size"]) == {1, 16}  # b > n is skipped
    b1 = table[table["batch_size"] == 1]
    assert (b1["timed_steps"] == 100).all() and (b1["steps_per_epoch"] == 300).all()
    assert (table[["index", "gather"]] > 0).all().all()
    assert table.loc[table["sampler"] == "wr", "stream"].isna().all()
    assert (table.loc[table["sampler"] != "wr", ["copy", "stream"]] > 0).all().all()
    assert table["device"].iloc[0] and table["platform"].iloc[0] == "cpu"


def test_a_size_is_refused_exactly_when_its_working_set_exceeds_the_usable_memory(monkeypatch):
    """The validation check compares working_bytes with 80% of the device's memory: one byte of
    limit either side of the boundary decides it, and the message names the size and the fix."""
    from sgdbench.validation import ConfigError

    settings = {"sizes": [1000, 50_000], "batch_sizes": [1], "samplers": ["wr"], "d": 32}
    need = e8.working_bytes(50_000, 32)
    assert need == 3 * 4 * 50_000 * 33 + 16 * 50_000  # data three times (float32), the indices
    monkeypatch.setenv("SGDBENCH_DEVICE_MEMORY_LIMIT", str(int(np.ceil(need / 0.8))))
    e8.check(settings)  # fits
    monkeypatch.setenv("SGDBENCH_DEVICE_MEMORY_LIMIT", str(int(need / 0.8) - 2))
    with pytest.raises(ConfigError, match=r"e8\.sizes\.1.*n = 50,000.*sizes up to about"):
        e8.check(settings)
    assert REGISTERED_E8.memory_mb(settings) == 4000  # small sizes keep the floor
    big = dict(settings, sizes=[10**8])
    assert REGISTERED_E8.memory_mb(big) == 1024 + e8.working_bytes(10**8, 32) // 2**20
