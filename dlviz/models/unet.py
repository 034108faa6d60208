"""U-Net (Ronneberger et al., 2015) and the same encoder-decoder without its skip connections.

Both label every pixel: images (N, H, W, 1) in [0, 1] -> logits (N, H, W, classes), for any H and W that are
multiples of 2**depth (the model is fully convolutional). With classes=1 the single logit is a binary mask
(membrane vs cell interior), trained with binary cross-entropy from logits; with classes=11 a softmax over
background + the ten digits.

    contracting path    down0 ─────────────────────────── skip0 ──► dec0 ─► 1×1 conv ─► logits
                          └ pool ► down1 ──────────── skip1 ──► dec1 ┘
                                     └ pool ► down2 ─ skip2 ──► dec2 ┘
                                                └ pool ► bottleneck ┘      expanding path

Each block is two 3×3 "same" convolutions (+ batch norm + ReLU); the filters double at every level down and halve
on the way up. The U-Net concatenates each expanding level with the contracting level of the same size (the skip);
the no-skip model ("noskip") is the same stack without the concatenations: everything must squeeze through the
bottleneck, like a plain autoencoder.

The layers have stable names (`down0_conv1`, `skip1`, `dec2_conv2`, `logits`, ...). `segmenter_views(model,
disabled)` rebuilds the graph from the SAME layer objects (no copy of the weights), with zeros in place of the
skips in `disabled`, and also returns the feature maps of every level.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import keras
from keras import layers

KINDS = ("unet", "noskip")


def _wire(get: Callable, kind: str, classes: int, depth: int, base_filters: int,
          disabled: Iterable[int] = (), gates=None) -> tuple[keras.KerasTensor, keras.KerasTensor, dict]:
    """The architecture, top to bottom. `get(name, make)` returns the layer called `name`: a new one (`make()`)
    when building, the model's own when rewiring. `gates`: an optional (N, depth) input multiplying each skip.
    Returns (inputs, logits, {level name: feature map})."""
    disabled = set(disabled)

    def block(x, filters: int, name: str):
        """3×3 conv -> BN -> ReLU, twice; (h, w, c) -> (h, w, filters)."""
        for i in (1, 2):
            x = get(f"{name}_conv{i}", lambda: layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                                             name=f"{name}_conv{i}"))(x)
            x = get(f"{name}_bn{i}", lambda: layers.BatchNormalization(name=f"{name}_bn{i}"))(x)
            x = get(f"{name}_relu{i}", lambda: layers.ReLU(name=f"{name}_relu{i}"))(x)
        return x

    inputs = keras.Input((None, None, 1), name="image")                         # (H, W, 1)
    maps = {}

    # Contracting path: features double, size halves.
    x, skips = inputs, []
    for level in range(depth):
        x = block(x, base_filters * 2**level, f"down{level}")                    # (H/2^l, W/2^l, f·2^l)
        maps[f"down{level}"] = x
        skips.append(x)
        x = get(f"pool{level}", lambda: layers.MaxPooling2D(2, name=f"pool{level}"))(x)

    # Bottleneck: the smallest, most abstract map.
    x = block(x, base_filters * 2**depth, "bottleneck")                          # (H/2^d, W/2^d, f·2^d)
    maps["bottleneck"] = x

    # Expanding path: upsample, then (U-Net only) concatenate the contracting map of the same size.
    for level in reversed(range(depth)):
        filters = base_filters * 2**level
        x = get(f"up{level}", lambda: layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level}"))(x)
        if kind == "unet":                                                       # (H/2^l, W/2^l, 2·f·2^l)
            skip = skips[level] * 0.0 if level in disabled else skips[level]
            if gates is not None:                                                # (N,) -> (N, 1, 1, 1)
                skip = skip * keras.ops.reshape(gates[:, level], (-1, 1, 1, 1))
            x = get(f"skip{level}", lambda: layers.Concatenate(name=f"skip{level}"))([x, skip])
        x = block(x, filters, f"dec{level}")                                     # (H/2^l, W/2^l, f·2^l)
        maps[f"dec{level}"] = x

    # Head: a 1×1 convolution, one logit per class and pixel.
    logits = get("logits", lambda: layers.Conv2D(classes, 1, name="logits"))(x)  # (H, W, classes)
    return inputs, logits, maps


def build_segmenter(kind: str = "unet", classes: int = 11, depth: int = 3, base_filters: int = 16) -> keras.Model:
    """A built U-Net (kind="unet") or the same network without skips (kind="noskip")."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    inputs, logits, _ = _wire(lambda name, make: make(), kind, classes, depth, base_filters)
    model = keras.Model(inputs, logits, name=f"{kind}_d{depth}_f{base_filters}")
    model.kind, model.depth, model.classes = kind, depth, classes
    return model


def segmenter_views(model: keras.Model, disabled: Iterable[int] = (), gated: bool = False) -> keras.Model:
    """The same trained layers wired again: outputs [logits, down0.., bottleneck, dec.. maps]; skips in
    `disabled` (levels) receive zeros. Output names are in `model.map_names` of the returned model.

    gated (U-Net only): a second input `skip_gates` (N, depth) multiplies each skip (1 = on, 0 = off), so one
    compiled function serves every combination of switched-off skips."""
    kind, depth = _kind_depth(model)
    classes = model.get_layer("logits").filters
    base = model.get_layer("down0_conv1").filters
    disabled = sorted(set(disabled))
    if disabled and kind != "unet":
        raise ValueError("only a U-Net has skip connections to disable")
    if any(not 0 <= level < depth for level in disabled):
        raise ValueError(f"skip levels are 0..{depth - 1}, got {disabled}")
    gates = keras.Input((depth,), name="skip_gates") if gated and kind == "unet" else None
    inputs, logits, maps = _wire(lambda name, make: model.get_layer(name), kind, classes, depth, base, disabled,
                                 gates)
    views = keras.Model(inputs if gates is None else [inputs, gates], [logits, *maps.values()],
                        name=f"{model.name}_views")
    views.map_names = list(maps)
    return views


def _kind_depth(model: keras.Model) -> tuple[str, int]:
    names = {layer.name for layer in model.layers}
    depth = sum(1 for n in names if n.startswith("pool"))
    return ("unet" if "skip0" in names else "noskip"), depth


def skip_levels(model: keras.Model) -> list[int]:
    """The levels whose skip connection can be switched off ([] for the no-skip model)."""
    kind, depth = _kind_depth(model)
    return list(range(depth)) if kind == "unet" else []
