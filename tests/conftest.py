import jax
import pytest

# float64 everywhere in tests; the package enables it too, this makes it explicit.
jax.config.update("jax_enable_x64", True)

# Chi-square and z tests below use fixed seeds, so each is deterministic; the
# level says how often a *correct* implementation would fail for a random seed.
ALPHA = 1e-3


@pytest.fixture(scope="session", autouse=True)
def shared_compilation_cache(tmp_path_factory):
    """One persistent JAX cache for every pipeline and `sgdbench run` the tests start in a
    subprocess (they read SGDBENCH_JAX_CACHE), so a program is compiled once per session, not
    once per test. Safe because JAX keys entries by the program (the warm-cache test in
    test_cli.py checks that a warm cache changes no number); a variable the caller set is kept."""
    import os

    os.environ.setdefault("SGDBENCH_JAX_CACHE", str(tmp_path_factory.mktemp("jax_cache")))
    yield


@pytest.fixture
def alpha():
    return ALPHA


@pytest.fixture
def clean_registries():
    """Plugins register for the process; forget what any plugin registered after each test."""
    from sgdbench import plugins, registry

    yield
    for reg in registry._ALL:
        for name in [k for k in reg.names() if reg.origin(k).startswith("plugin ")]:
            reg.unregister(name)
    plugins._loaded.clear()


def pytest_report_header(config):
    """The property-based fuzz tests' seed and example counts (tests/test_fuzz_configs.py)."""
    import os

    seed = os.environ.get("SGDBENCH_FUZZ_SEED", "20261206")
    examples = int(os.environ.get("SGDBENCH_FUZZ_EXAMPLES", "25"))
    return (f"fuzz: seed {seed} (SGDBENCH_FUZZ_SEED); {examples} examples per property, 2x for "
            f"the near-valid ones, {10 * examples} in the slow suite (SGDBENCH_FUZZ_EXAMPLES)")
