"""Streamlit widgets shared by every page (the only part of dlviz that imports streamlit).

Session state used across pages (one documented name each):
    dlviz.input       the user's current input (`dlviz.inputs.ChosenInput`), survives page switches
    dlviz.dataset     the dataset key chosen in the dataset selector ("mnist" / "fashion")
    dlviz.canvas      the canvas drawing (Fabric JSON), restored when the canvas is shown again
    dlviz.<slot>.*    the same for a page's extra input slots (`input_picker(dataset, slot="a")`):
                      dlviz.<slot>.input, dlviz.<slot>.canvas, dlviz.<slot>.upload, ...
"""
