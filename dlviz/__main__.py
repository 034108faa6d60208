"""Command line: `python -m dlviz models [--json]` and `python -m dlviz predict FILE... --model NAME [--json]`.

`predict` sends each file through the app's own input pipeline. A file that cannot be used is reported with its
message and makes the exit code 1, while the other files are still predicted.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from dlviz import registry
from dlviz.datasets import get_dataset


def cmd_models(args) -> int:
    cards = registry.model_cards(args.pretrained)
    if args.json:
        print(json.dumps([{"name": c.name, **{k: v for k, v in c.entry.items() if k != "layers"}} for c in cards],
                         indent=2))
        return 0
    if not cards:
        print("no models in the manifest")
        return 0
    rows = [("name", "dataset", "params", "test acc", "file", "trained")]
    for c in cards:
        acc = c.metrics.get("test_accuracy")
        rows.append((c.name, c.dataset, f"{c.entry.get('params', 0):,}", f"{acc:.2%}" if acc is not None else "-",
                     c.file, c.entry.get("date", "-")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    return 0


def cmd_predict(args) -> int:
    from dlviz.inputs import MAX_BYTES, ChosenInput, InputError, decode_image, model_view

    try:
        card = registry.model_card(args.model, args.pretrained)
        model = registry.load_model(args.model, args.pretrained)
    except registry.ModelUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    classes = get_dataset(card.dataset).classes
    results, images = [], []
    for name in args.files:
        try:
            with open(name, "rb") as f:          # never more than the limit: a bigger file is refused unread
                data = f.read(MAX_BYTES + 1)
            # The app's limits: decoded at most MAX_SIDE a side, then the model's dataset recipe.
            view = model_view(ChosenInput.from_rgb(decode_image(data, name), source="upload", name=name),
                              card.dataset)
            images.append(view.image)
            results.append({"file": name, **({"note": view.note} if view.note else {})})
        except (InputError, OSError) as e:
            results.append({"file": name, "error": str(e) if isinstance(e, InputError) else f"cannot read: {e}"})
    if images:
        probs = np.asarray(model.predict_on_batch(np.stack(images)[..., None].astype("float32")))
        good = iter(probs)
        for r in results:
            if "error" not in r:
                p = next(good)
                r["label"] = classes[int(p.argmax())]
                r["probs"] = {c: round(float(v), 6) for c, v in zip(classes, p)}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "error" in r:
                print(f"{r['file']}: ERROR {r['error']}")
            else:
                top = sorted(r["probs"].items(), key=lambda kv: -kv[1])[:3]
                print(f"{r['file']}: {r['label']}  (" + ", ".join(f"{c} {p:.1%}" for c, p in top) + ")"
                      + (f"\n  note: {r['note']}" if "note" in r else ""))
    return 1 if any("error" in r for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlviz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pretrained", type=Path, default=registry.PRETRAINED_DIR, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser("models", help="list the trained models (the manifest)")
    models.add_argument("--json", action="store_true")
    predict = sub.add_parser("predict", help="classify image files")
    predict.add_argument("files", nargs="+", metavar="FILE")
    predict.add_argument("--model", required=True, help="a name from `python -m dlviz models`")
    predict.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        return {"models": cmd_models, "predict": cmd_predict}[args.command](args)
    except registry.ModelUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
