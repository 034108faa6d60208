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
