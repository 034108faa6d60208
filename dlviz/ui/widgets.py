"""Widget wrappers for what Streamlit leaves to the page."""
from __future__ import annotations

from collections.abc import Sequence


def selectbox(container, label: str, options: Sequence, index: int | None = 0, **kwargs):
    """`container.selectbox(label, options, index, **kwargs)` that always returns one of `options`.

    Streamlit hands the page a value from the browser as it came when it is not among the options (the path
    that serves `accept_new_options`). A choice made from an older list (a click that races a rerun which
    changed the options: the classes present in a new U-Net input, the layers of a newly loaded model) then
    reached the page as a foreign string; bench/soak.py found the U-Net page failing on it. Such a value falls back
    to the default option.
    """
    value = container.selectbox(label, options, index=index, **kwargs)
    if not options or any(value is o or value == o for o in options):
        return value
    return options[index] if index is not None else None
