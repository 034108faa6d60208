"""User images (uploads, canvas drawings, bundled samples) -> model inputs, in three rooms:

* `dlviz.inputs.decoding`: untrusted bytes and canvas pixels -> a clean, small ``(H, W, 3) uint8`` RGB array, or
  an `InputError` whose message can be shown as is (`decode_image`, `canvas_to_rgb`, `limit_size`).
* `dlviz.inputs.preprocessing`: any RGB array -> the 28×28 input of a dataset's model, made by that dataset's
  recipe with every stage kept (`preprocess`, `mnist_stages`, `fashion_stages`, `to_gray`).
* `dlviz.inputs.choice`: the user's current choice (`ChosenInput`, a page's `SampleSet`) and its model view
  (`model_view`).

Everything is re-exported here, so `from dlviz.inputs import ...` works for every name. Only numpy and Pillow
are used; this package must not import streamlit or keras.
"""

from dlviz.inputs.choice import (EMPTY_HINT, ChosenInput, SampleSet, choice_from_url, model_view,
                                 sample_index_from_url)
from dlviz.inputs.decoding import (MAX_ASPECT, MAX_BYTES, MAX_CANVAS_SIDE, MAX_PIXELS, MAX_SIDE,
                                   SUPPORTED_FORMATS, Decoded, EmptyInputError, InputError, canvas_to_rgb,
                                   check_uint8_image, decode_image, decode_upload, limit_size)
from dlviz.inputs.preprocessing import (PREPROCESSORS, RECIPES, MnistStages, Stages, fashion_stages, mnist_stages,
                                        preprocess, to_gray)

__all__ = [
    "InputError", "EmptyInputError", "MAX_ASPECT", "MAX_BYTES", "MAX_CANVAS_SIDE", "MAX_PIXELS", "MAX_SIDE",
    "SUPPORTED_FORMATS",
    "Decoded", "decode_upload", "decode_image", "canvas_to_rgb", "limit_size", "check_uint8_image",
    "Stages", "MnistStages", "mnist_stages", "fashion_stages", "preprocess", "PREPROCESSORS", "RECIPES", "to_gray",
    "EMPTY_HINT", "ChosenInput", "SampleSet", "model_view", "sample_index_from_url", "choice_from_url",
]
