"""Streamlit widgets shared by every page (the only part of dlviz that imports streamlit).

Session state used across pages (one documented name each):
    dlviz.input       the user's current input (`dlviz.inputs.ChosenInput`), survives page switches
    dlviz.dataset     the dataset key chosen in the dataset selector ("mnist" / "fashion")
    dlviz.canvas      the canvas drawing (Fabric JSON), restored when the canvas is shown again
    dlviz.<slot>.*    the same for a page's extra input slots (`input_picker(dataset, slot="a")`):
                      dlviz.<slot>.input, dlviz.<slot>.canvas, dlviz.<slot>.upload, ...
    dlviz.lang        the language, "en" / "ko" (`dlviz.ui.shell.settings`; URL ?lang=)
    present           presenter mode on/off (the sidebar toggle; URL ?present=true)
    dlviz.export.view the charts of the current view, for the .npz / .html exports (`dlviz.ui.charts`)
    <page>.<name>     a page's widgets; those made with `**linked(key)` live in the URL too (`dlviz.ui.links`)
"""
