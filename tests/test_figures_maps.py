"""The one reader of clicked points (`selected_customdata`), which every clickable figure's page relies on; the map
grid's byte mosaic."""
from types import SimpleNamespace

import numpy as np

from dlviz.explain import clicked_cell
from dlviz.figures.gan import clicked_tile
from dlviz.figures.latent import clicked_latent
from dlviz.figures.maps import selected_customdata


def event(*points):
    return SimpleNamespace(selection=SimpleNamespace(points=list(points)))


def test_reads_lists_and_the_browsers_typed_array_dicts():
    assert selected_customdata(event({"customdata": [3, 4, 5, 0.5]}), 3) == [3, 4, 5]
    assert selected_customdata(event({"customdata": {"0": 3, "1": 4, "2": 5}}), 3) == [3, 4, 5]


def test_skips_points_without_usable_data_and_takes_the_first_usable_one():
    ev = event({"x": 1}, {"customdata": [1, None, 2]}, {"customdata": [7]}, {"customdata": [9, 8, 7]})
    assert selected_customdata(ev, 3) == [9, 8, 7]
    assert selected_customdata(ev, 1) == [1]


def test_nothing_clicked_or_not_an_event():
    assert selected_customdata(event(), 1) is None
    assert selected_customdata(None, 1) is None
    assert selected_customdata(SimpleNamespace(selection=None), 1) is None


def test_each_page_reader_converts_its_own_fields():
    assert clicked_cell(event({"customdata": {"0": 2, "1": 10, "2": 11, "3": 0.25}})) == (2, 10, 11)
    assert clicked_latent(event({"customdata": [0.5, -1.25, -1]})) == (0.5, -1.25, -1)
    assert clicked_tile(event({"customdata": {"0": 17}})) == 17
    assert clicked_tile(event()) is None


def test_map_grid_sends_one_byte_per_cell_with_transparent_gaps():
    from dlviz.figures.maps import GAP, GAP_COLOR, map_grid

    maps = np.stack([np.array([[0.0, 1.0], [2.0, 4.0]]), np.array([[-1.0, -1.0], [-1.0, 3.0]])], axis=-1)
    mosaic = np.asarray(map_grid(maps, cols=2, clickable=False, cell_px=20).data[0].z)
    assert mosaic.dtype == np.uint8
    tile0, tile1 = mosaic[:2, :2], mosaic[:2, -2:]
    assert tile0.tolist() == [[1, 65], [128, 255]]          # per map: its own min..max -> 1..255
    assert tile1.tolist() == [[1, 1], [1, 255]]
    assert (mosaic[:, 2:-2] == GAP).all() and mosaic.shape[1] > 4      # the gap column(s) between the tiles
    scale = map_grid(maps, cols=2, clickable=False).data[0].colorscale
    assert scale[0] == (0.0, GAP_COLOR) and scale[1][0] == 1 / 255 and scale[-1][0] == 1.0
    signed = np.asarray(map_grid(maps, cols=2, clickable=False, cell_px=20, zmid=0.0).data[0].z)
    assert signed[0, 0] == 128 and signed[1, 1] == 255      # zmid in the middle, the largest |value| at an end


def test_number_grids_puts_each_grid_on_its_own_square_axes_with_its_outlines_and_clicks():
    from dlviz.figures.maps import number_grid, number_grids

    small = np.arange(36.0).reshape(6, 6)
    pooled = np.array([[7.0, 9.0, 11.0], [19.0, 21.0, 23.0], [31.0, 33.0, 35.0]])
    window = np.zeros((6, 6), bool)
    window[2:4, 4:6] = True
    fig = number_grids([dict(values=small, highlight=window, strong=(3, 5)),
                        dict(values=pooled, strong=(1, 2), clickable=True),
                        dict(values=pooled / 2, strong=(1, 2), clickable=True)], ["input", "max", "average"],
                       widths=(3, 2, 2))
    heatmaps = [tr for tr in fig.data if tr.type == "heatmap"]
    assert [(tr.xaxis, tr.yaxis) for tr in heatmaps] == [("x", "y"), ("x2", "y2"), ("x3", "y3")]
    assert np.array_equal(np.asarray(heatmaps[1].z), pooled) and list(heatmaps[1].text[1]) == ["19.00", "21.00",
                                                                                                  "23.00"]
    domains = [fig.layout[f"xaxis{s}"].domain for s in ("", "2", "3")]
    widths = [d[1] - d[0] for d in domains]
    assert np.isclose(widths[0] / widths[1], 1.5) and np.isclose(widths[1], widths[2])
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:]))               # side by side, not overlapping
    assert all(fig.layout[f"yaxis{s}"].scaleanchor == f"x{s}" for s in ("", "2", "3"))
    assert [a.text for a in fig.layout.annotations] == ["input", "max", "average"]
    # outlines: the 4 window cells and the winner on the input's axes, the chosen cell on each output's
    by_axes = {}
    for shape in fig.layout.shapes:
        by_axes.setdefault(shape.xref, []).append((shape.y0 + 0.5, shape.x0 + 0.5, shape.line.width))
    assert sorted(by_axes["x"]) == [(2, 4, 2), (2, 5, 2), (3, 4, 2), (3, 5, 2), (3, 5, 4)]
    assert by_axes["x2"] == by_axes["x3"] == [(1, 2, 4)]
    # clicks: customdata (grid, row, col) on the clickable grids only, and the click reader takes it
    scatters = [tr for tr in fig.data if tr.type == "scatter"]
    assert [(tr.xaxis, list(tr.customdata[5])) for tr in scatters] == [("x2", [1, 1, 2]), ("x3", [2, 1, 2])]
    event = SimpleNamespace(selection=SimpleNamespace(points=[{"customdata": list(scatters[1].customdata[7])}]))
    assert clicked_cell(event) == (2, 2, 1)
    # the single grid keeps its shape: same cells, outlines, clicks (grid 0)
    one = number_grid(pooled, "max", strong=(1, 2), clickable=True)
    assert [tr.type for tr in one.data] == ["heatmap", "scatter"] and list(one.data[1].customdata[5]) == [0, 1, 2]
    assert [(s.x0, s.y0, s.line.width) for s in one.layout.shapes] == [(1.5, 0.5, 4)]
