"""W1's paper section, written from the settings that ran and the measured macros."""

from sgdbench.latex import tex


def section(settings, macros):
    rows = " ".join(
        rf"\texttt{{{tex(s)}}} reaches \sgd{{wine/{s}/final}};" for s in settings["samplers"]
    )
    return rf"""\section{{Plugin: orders on softmax regression (wine)}}
Softmax regression on the $n=\sgd{{wine/n}}$ wine examples, $\gamma L_{{\max}}=\sgd{{wine/step}}$,
\sgd{{wine/epochs}} epochs, \sgd{{wine/seeds}} seeds; mean epoch-end suboptimality: {rows}
see Figure~\ref{{fig:wine}}.
\begin{{figure}}[h]\centering\includegraphics[width=0.5\textwidth]{{wine_orders.pdf}}
\caption{{Mean $f(x)-f^*$ at epoch ends per sampler.}}\label{{fig:wine}}\end{{figure}}
"""
