"""sgdbench: measure how the way SGD samples its data changes what it does.

Public entry points: :mod:`sgdbench.problems` (finite sums and their registry),
:mod:`sgdbench.samplers` (index streams), :mod:`sgdbench.schedules` (step sizes),
:mod:`sgdbench.engine` (the compiled grid of SGD chains) and the ``sgdbench`` CLI.
"""

import jax

# Problems carry their reference quantities in float64 and runs choose float32
# or float64 explicitly, so 64-bit types must be available; every array we
# create names its dtype, so this does not silently widen float32 runs.
jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"
