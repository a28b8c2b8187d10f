"""An experiment folder outside the package: orders on softmax regression (wine).

Give the folder in a pipeline config's ``plugins:`` after ``wine_plugin.py`` (which
registers the problem and the ``random_start`` sampler it uses) and name it in
``experiments:``. The folder has the built-ins' shape: this file declares the
experiment from its parts, ``schema.yaml`` its settings, ``measure.py`` the tables,
``figures.py`` the figure and ``paper.py`` the section. sgdbench registers
``EXPERIMENT`` when it loads the folder.
"""

from sgdbench.experiments import folder_experiment

from . import measure, paper

# Read from the folder by convention: schema.yaml, measure.result and measure.check,
# paper.section; the name is given (the folder may be copied under another name).
EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    name="wine_orders", label="W1", title="orders on softmax regression", tables=("curves",),
    figures=(("wine_orders", ("curves",), "draw",
              "W1: mean suboptimality at epoch ends per sampler on softmax regression."),),
)  # fmt: skip
