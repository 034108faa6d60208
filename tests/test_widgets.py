"""dlviz.ui.widgets: a selectbox value that is not among the options never reaches the page."""
from dlviz.ui import widgets


class Browser:
    """A container whose selectbox returns what a browser sent, as Streamlit does for a value not in the options."""

    def __init__(self, sent):
        self.sent = sent

    def selectbox(self, label, options, index=0, **kwargs):
        return self.sent


def test_a_value_from_an_older_list_of_options_falls_back_to_the_default():
    assert widgets.selectbox(Browser("9"), "Class", ["0", "3", "7"], index=1) == "3"
    assert widgets.selectbox(Browser("9"), "Class", ["0", "3", "7"], index=None) is None
    assert widgets.selectbox(Browser("7 (98.0%)"), "Explain", [7, 1, 4]) == 7      # int options, label sent


def test_a_valid_value_and_empty_options_pass_through():
    assert widgets.selectbox(Browser("7"), "Class", ["0", "3", "7"]) == "7"
    assert widgets.selectbox(Browser(None), "… and not", [None, 3, 1]) is None
    assert widgets.selectbox(Browser(None), "Class", []) is None
