"""Arrays in, `plotly.graph_objects.Figure` out. Nothing here runs a model.

One module per topic: `maps` (images, feature-map grids, number grids, panels: the shared helpers live there),
and one per model page (`latent`, `gan`, `masks`). `from dlviz import figures; figures.image(...)` keeps working:
the shared helpers are re-exported here.
"""
from dlviz.figures.maps import *  # noqa: F401,F403
from dlviz.figures.maps import (_AXIS, _grid_shape, _panels, _rect, _shrink,  # noqa: F401  (for topic modules)
                                _square_axes)
