"""The one reader of clicked points (`selected_customdata`), which every clickable figure's page relies on."""
from types import SimpleNamespace

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
