"""W1's figure: mean epoch-end suboptimality per sampler (reads the ``curves`` table only)."""

import matplotlib.pyplot as plt

from sgdbench.figures import SAMPLER_COLORS, SAMPLER_LABELS, save, style


def draw(tables, meta, settings, stem):
    style()
    fig, ax = plt.subplots(figsize=(3.4, 2.4))
    for name, g in tables["curves"].groupby("sampler"):
        mean = g.groupby("epoch")["loss_gap"].mean()
        ax.semilogy(
            mean.index, mean.to_numpy(), color=SAMPLER_COLORS[name], label=SAMPLER_LABELS[name]
        )
    ax.set(xlabel="epoch", ylabel="$f(x) - f^*$")
    ax.legend(fontsize=6)
    save(fig, stem)
