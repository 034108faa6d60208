"""What one session holds in memory, by session-state key, after a visit of every page with an uploaded photo.

    python bench/session_memory.py [--json]

Measured with AppTest (one session, the real pages): each value of `st.session_state` is sized by what it holds
(numpy arrays by their bytes, Plotly figures by their JSON, anything else by its pickle); and whether an uploader
still holds the raw file (the picker empties it once the file is decoded). Shared objects (models, compiled functions, samples: `st.cache_resource`)
are not per session and are not counted. A server's RSS per session also includes Streamlit's own per-session
objects (its message queue, the forward-message cache), which this does not see; bench/soak.py reports the RSS.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def size_of(value, seen=None) -> int:
    """Bytes a value holds: arrays by nbytes, figures by their JSON, containers by their items, else pickle."""
    import plotly.graph_objects as go

    seen = seen if seen is not None else set()
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, go.Figure):
        return len(value.to_json())
    if isinstance(value, dict):
        return sum(size_of(k, seen) + size_of(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return sum(size_of(v, seen) for v in value)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return size_of(vars(value), seen)
    if hasattr(value, "__dataclass_fields__"):
        return sum(size_of(getattr(value, f), seen) for f in value.__dataclass_fields__)
    try:
        return len(pickle.dumps(value))
    except Exception:
        return sys.getsizeof(value)


def photo_png() -> bytes:
    from PIL import Image

    rng = np.random.default_rng(0)
    img = (rng.random((3000, 4000, 3)) * 40 + 200).astype(np.uint8)
    img[800:2200, 1800:2100] = 20
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def measure() -> dict:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/convolution.py")
    at.run()
    data = photo_png()
    uploader = next(u for u in at.get("file_uploader") if (u.key or "").startswith("dlviz.upload"))
    uploader.set_value(("photo.jpg", data, "image/jpeg")).run()
    for page in ("pages/pooling.py", "pages/autoencoder.py", "pages/gan.py", "pages/unet.py", "pages/convolution.py"):
        at.switch_page(page)
        at.run()
    errors = [e.value for e in at.exception]
    state = at.session_state._state._state          # SafeSessionState -> SessionState
    keys = list(state._keys())
    sizes = {}
    for k in keys:
        try:
            sizes[k] = size_of(state[k])
        except Exception:
            sizes[k] = 0
    at.switch_page("pages/convolution.py")
    at.run()
    held = [u.key for u in at.get("file_uploader") if u.value is not None]
    total = sum(sizes.values())
    top = dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:12])
    return {"keys": len(sizes), "total_kb": round(total / 1024, 1), "largest_kb": {k: round(v / 1024, 1)
                                                                                   for k, v in top.items()},
            "upload_bytes": len(data), "uploaders_still_holding_a_file": held, "errors": errors}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = measure()
    print(json.dumps(result, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
