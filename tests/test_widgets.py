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


class Radio:
    def __init__(self, sent):
        self.sent = sent

    def radio(self, label, options, index=0, **kwargs):
        return self.sent

    def segmented_control(self, label, options, default=None, **kwargs):
        return self.sent


def test_radios_and_segmented_controls_fall_back_too():
    # a click sent in the other language: the label "28×28 입력" of an option whose English label this run is not it
    assert widgets.radio(Radio("28×28 입력"), "Padding", ["valid", "same"], index=1) == "same"
    assert widgets.radio(Radio("same"), "Padding", ["valid", "same"]) == "same"
    assert widgets.segmented_control(Radio("U-Net 입력"), "Task", ["digits", "membrane"], default="digits") == "digits"
    assert widgets.segmented_control(Radio("x"), "Task", ["digits", "membrane"], required=True) == "digits"
    assert widgets.segmented_control(Radio("x"), "Dataset", ["mnist", "fashion"], required=True,
                                     fallback="fashion") == "fashion"
    assert widgets.segmented_control(Radio(None), "Layer", ["conv1", "conv2"]) is None      # nothing chosen
