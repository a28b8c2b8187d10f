"""An experiment folder outside the package: orders on softmax regression (wine).

Give the folder in a pipeline config's ``plugins:`` after ``wine_plugin.py`` (which
registers the problem and the ``random_start`` sampler it uses) and name it in
``experiments:``. The folder has the built-ins' shape: this file declares the
experiment from its parts, ``schema.yaml`` its settings, ``measure.py`` the tables,
``figures.py`` the figure and ``paper.py`` the section. sgdbench registers
``EXPERIMENT`` when it loads the folder.
"""

from sgdbench.experiments import Experiment, Figure, deferred, folder_schema

from . import measure, paper

EXPERIMENT = Experiment(
    name="wine_orders", label="W1", title="orders on softmax regression",
    schema=folder_schema(__file__), measure=measure.measure, check=measure.check,
    tables=("curves",), section=paper.section,
    figures=(Figure("wine_orders", ("curves",), deferred(f"{__name__}.figures", "draw"),
                    "W1: mean suboptimality at epoch ends per sampler on softmax regression."),),
)  # fmt: skip
