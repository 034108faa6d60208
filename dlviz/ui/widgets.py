"""Widget wrappers for what Streamlit leaves to the page."""
from __future__ import annotations

from collections.abc import Sequence


def _one_of(value, options: Sequence, fallback):
    """value if it is one of `options` (or None: nothing chosen), else `fallback`."""
    if value is None or not options or any(value is o or value == o for o in options):
        return value
    return fallback


def selectbox(container, label: str, options: Sequence, index: int | None = 0, **kwargs):
    """`container.selectbox(label, options, index, **kwargs)` that always returns one of `options`.

    Streamlit hands the page a value from the browser as it came when it is not among the options (the path
    that serves `accept_new_options`; radios and segmented controls do the same, they match the label the
    browser sent against the labels of this run). A choice made from an older list (a click that races a rerun
    which changed the options: the classes present in a new U-Net input, the layers of a newly loaded model) or
    in the other language (a click that races a language switch: bench/soak.py found the Pooling page failing on
    "28×28 입력") then reaches the page as a foreign string. Such a value falls back to the default option.
    """
    value = container.selectbox(label, options, index=index, **kwargs)
    return _one_of(value, options, options[index] if options and index is not None else None)


def radio(container, label: str, options: Sequence, index: int | None = 0, **kwargs):
    """`container.radio(...)` that always returns one of `options` (see `selectbox`)."""
    value = container.radio(label, options, index=index, **kwargs)
    return _one_of(value, options, options[index] if options and index is not None else None)


def segmented_control(container, label: str, options: Sequence, default=None, fallback=None, **kwargs):
    """`container.segmented_control(...)` (one choice) that returns one of `options` or None (see `selectbox`).
    A foreign value becomes `fallback`, else `default`, else (with `required=True`) the first option."""
    value = container.segmented_control(label, options, default=default, **kwargs)
    if fallback is None:
        fallback = default if default is not None or not kwargs.get("required") else options[0]
    return _one_of(value, options, fallback)
