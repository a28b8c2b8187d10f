import jax
import pytest

# float64 everywhere in tests; the package enables it too, this makes it explicit.
jax.config.update("jax_enable_x64", True)

# Chi-square and z tests below use fixed seeds, so each is deterministic; the
# level says how often a *correct* implementation would fail for a random seed.
ALPHA = 1e-3


@pytest.fixture
def alpha():
    return ALPHA
