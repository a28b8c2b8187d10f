"""A plugin sampler for the report card tutorial (docs/card.md): a fresh shuffle on even
epochs and its mirror image on odd ones, so each pair of epochs visits every example at the
same mean position. Each epoch alone is a uniform permutation; consecutive epochs are not
independent, so it declares no law beyond "without replacement, epoch-based"."""

from dataclasses import dataclass

import numpy as np

from sgdbench import samplers
from sgdbench.samplers import IndexStream


@dataclass(frozen=True)
class Mirror(IndexStream):
    """A fresh shuffle on even epochs, its mirror image on odd ones."""

    def epoch_orders(self, rng, ctx, n, epochs):
        orders = np.stack([rng.permutation(n) for _ in range(epochs)])
        orders[1::2] = orders[0::2][: epochs // 2, ::-1]
        return orders


samplers.register(Mirror("mirror", "a shuffle, then its mirror", "#777777", with_replacement=False,
                         epoch_based=True))
