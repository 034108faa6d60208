"""Shareable links, presenter mode, language switch and exports through AppTest (the browser side is in
tests/test_browser_lecture.py)."""
from __future__ import annotations

import io
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from dlviz import figures
from dlviz.figures import style
from dlviz.figures.maps import GAP_COLOR
from tests.conftest import ROOT, page_charts

APP = str(ROOT / "app.py")
TIMEOUT = 120


def open_link(page: str | None, **params) -> AppTest:
    """A fresh session opened on a link: the query parameters are there before the first run."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def specs(at: AppTest) -> dict[str, dict]:
    return {c.proto.id.split("-", 2)[-1]: json.loads(c.proto.spec) for c in page_charts(at)}   # by key


def test_a_pooling_link_restores_its_settings_and_bad_values_fall_back():
    at = open_link("pages/pooling.py", **{"pool.size": "3", "pool.padding": "same", "pool.kernel": "laplacian",
                                          "sample": "5"})
    assert at.slider(key="pool.size").value == 3
    assert at.radio(key="pool.padding").value == "same"
    assert at.selectbox(key="pool.kernel").value == "laplacian"
    assert at.session_state["dlviz.input"].index == 5
    bad = open_link("pages/pooling.py", **{"pool.size": "9", "pool.kernel": "no such kernel"})
    assert bad.slider(key="pool.size").value == 2                     # out of range: the default, no exception
    assert bad.selectbox(key="pool.kernel").value == "box blur"


def test_language_from_the_link_and_the_switch_keeps_it_in_the_url():
    at = open_link("pages/pooling.py", lang="ko")
    assert at.title[0].value == "풀링"
    assert at.slider(key="pool.size").label == "풀 크기"
    assert at.query_params["lang"] == "ko"
    # AppTest formats options with str(), not the page's format_func: switch on the home page (no selectbox).
    # A fragment rerun in Korean (app.py not run) is checked in the browser (tests/test_browser_lecture.py).
    home = open_link(None, lang="ko")
    assert home.get("page_link")[0].proto.label.startswith("**합성곱")
    home.segmented_control(key="dlviz.lang.widget").set_value("en").run()
    assert home.get("page_link")[0].proto.label.startswith("**Convolution") and home.query_params["lang"] == "en"


def test_an_unknown_language_in_the_link_is_english():
    at = open_link(None, lang="xx")
    assert at.query_params["lang"] == "en"
    assert "see what a neural network does" in at.markdown[0].value


def test_presenter_mode_restyles_every_chart_and_names_the_png():
    plain = open_link("pages/pooling.py")
    big = open_link("pages/pooling.py", present="true")
    assert big.toggle(key="present").value is True
    p, b = specs(plain), specs(big)
    assert p.keys() == b.keys() and len(p) >= 4
    for key in p:
        assert b[key]["layout"]["font"]["size"] == style.FONT, key
        assert p[key]["layout"].get("font", {}).get("size") != style.FONT
    configs = [json.loads(c.proto.config) for c in page_charts(big)]
    names = [c["toImageButtonOptions"]["filename"] for c in configs]
    assert "dlviz-pooling-pool-side" in names and all(c["toImageButtonOptions"]["scale"] == 2 for c in configs)


def test_presenter_style_on_a_figure():
    fig = figures.number_grid(np.arange(9.0).reshape(3, 3), "t", strong=(1, 1))
    big = style.presenter(fig)
    assert big.layout.title.font.size == style.TITLE and big.layout.shapes[0].line.width >= style.OUTLINE
    assert big.layout.height > fig.layout.height and big.data[0].textfont.size == style.FONT
    assert fig.layout.shapes[0].line.width == 4                        # the original is left alone
    maps = style.presenter(figures.map_grid(np.random.default_rng(0).random((5, 5, 2))))
    colors = [c for _, c in maps.to_plotly_json()["data"][0]["colorscale"]]
    assert colors[1] == "#000000" and colors[-1].lower() == "#fcffa4"   # Inferno, without Streamlit's placeholder
    assert colors[0] == GAP_COLOR                                       # the gaps between tiles stay transparent
    curve = style.presenter(go.Figure(go.Scatter(x=[0, 1], y=[1, 0], mode="lines")))
    assert curve.data[0].line.width >= style.LINE


def test_exports_hold_the_arrays_and_an_offline_html_of_the_view():
    at = open_link("pages/pooling.py")
    record = at.session_state["dlviz.export.view"]
    assert "pool.side" in record.figures and record.page == "Pooling"
    from dlviz.ui import charts

    arrays = np.load(io.BytesIO(charts.npz_bytes(record)))
    side = [k for k in arrays.files if k.startswith("pool.side/")]
    assert len(side) == 5 and arrays["pool.side/0.heatmap.z"].shape == (28, 28)
    page = charts.html_snapshot(record, "dlviz: Pooling", "made")
    assert page.count("<section>") == len(record.figures) and "Plotly.newPlot" in page
    assert "<script src=" not in page and len(page) > 3_000_000          # plotly.js is inlined: works offline
    assert len(at.get("download_button")) == 2


def test_a_page_switch_forgets_the_previous_pages_charts():
    at = open_link("pages/pooling.py")
    at.switch_page("pages/home.py").run()
    figures_now = at.session_state["dlviz.export.view"].figures
    assert figures_now and all(k.startswith("preview.") for k in figures_now)


@pytest.mark.parametrize("locale,expected", [("ko-KR", "ko"), ("en-GB", "en"), (None, "en")])
def test_first_language_follows_the_browser(monkeypatch, locale, expected):
    from dlviz.ui import shell

    monkeypatch.setattr(shell.st, "query_params", {})
    monkeypatch.setattr(shell.st, "context", type("C", (), {"locale": locale})())
    assert shell._first_language() == expected
