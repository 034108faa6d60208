"""The bad-input corpus of issue 9, generated in memory (no binary files in the repository).

`corpus()` returns one `Case` per kind of file students send: damaged, hostile, not an image, extreme shapes and
modes, blank, huge. `refuse` names a word the refusal message must contain, or is None when the file is a usable
image (`blank` then says whether the page should answer with the "nothing to see" hint instead of a result).
"""
from __future__ import annotations

import functools
import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from dlviz.inputs import MAX_BYTES


@dataclass(frozen=True)
class Case:
    name: str           # the file name the user uploads
    data: bytes
    refuse: str | None  # a word of the expected refusal message (case-insensitive), None = a usable image
    blank: bool = False  # usable but nothing to recognise: the page shows its hint


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def digit(h: int = 120, w: int = 90, ink: int = 255, paper: int = 0) -> np.ndarray:
    """(h, w) uint8: a thick vertical stroke (a "1") on plain paper."""
    a = np.full((h, w), paper, np.uint8)
    a[h // 6: h - h // 6, w // 2 - max(1, w // 14): w // 2 + max(1, w // 14)] = ink
    return a


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares width × height pixels (a decompression bomb): a real 8×8 PNG with its
    IHDR rewritten (and its CRC fixed, so only the size is a lie)."""
    data = bytearray(encode(Image.new("L", (8, 8)), "PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4: ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr: ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17: ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def exif_rotated_jpeg() -> bytes:
    """A 60×100 (w×h) portrait stroke stored sideways with EXIF orientation 6 ("rotate 90° clockwise to view")."""
    upright = digit(100, 60)
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)))      # what the camera wrote: landscape
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored.convert("RGB"), "JPEG", exif=exif.tobytes(), quality=95)


def huge_photo(width: int = 6000, height: int = 4000) -> bytes:
    """A valid 24-megapixel JPEG photo (smooth lighting, a dark digit stroke on paper), a few MB."""
    y = np.linspace(200, 240, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 15, width, dtype=np.float32)[None, :]
    paper = (y + x).astype(np.uint8)
    paper[height // 5: 4 * height // 5, width // 2 - 150: width // 2 + 150] = 25
    return encode(Image.fromarray(paper).convert("RGB"), "JPEG", quality=80)


def palette_with_transparency() -> bytes:
    """A "P" mode PNG whose index 0 is transparent: a black stroke on a transparent background."""
    img = Image.fromarray(np.where(digit() > 0, 1, 0).astype(np.uint8), mode="P")
    img.putpalette([255, 255, 255, 0, 0, 0] + [0] * (256 * 3 - 6))
    return encode(img, "PNG", transparency=0)


def animated_gif() -> bytes:
    frames = [Image.fromarray(digit()).convert("P"), Image.fromarray(255 - digit()).convert("P")]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def cmyk_jpeg() -> bytes:
    return encode(Image.fromarray(255 - digit()).convert("RGB").convert("CMYK"), "JPEG", quality=95)


def strip(length: int = 10_000) -> np.ndarray:
    """(1, length) uint8: one pixel high, black with a white dash in the middle fifth."""
    a = np.zeros((1, length), np.uint8)
    a[0, 2 * length // 5: 3 * length // 5] = 255
    return a


def png16() -> bytes:
    return encode(Image.fromarray(digit().astype(np.uint16) * 257), "PNG")


@functools.lru_cache(maxsize=1)
def corpus() -> tuple[Case, ...]:
    good_png = encode(Image.fromarray(digit()), "PNG")
    good_jpeg = encode(Image.fromarray(digit()).convert("RGB"), "JPEG", quality=90)
    return (
        Case("truncated.png", good_png[: len(good_png) // 2], "damaged"),
        Case("truncated.jpg", good_jpeg[: len(good_jpeg) // 2], "damaged"),
        Case("bomb.png", png_bomb(), "too large"),
        Case("empty.png", b"", "empty"),
        Case("notes.png", b"Lecture notes: convolution, pooling, ReLU.\n" * 20, "text file"),
        Case("drawing.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                            b'<circle cx="5" cy="5" r="4"/></svg>', "SVG"),
        Case("page.html", b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>", "HTML"),
        Case("toobig.png", b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES), "limit is"),
        Case("one_pixel.png", encode(Image.new("L", (1, 1), 255), "PNG"), None, blank=True),
        Case("strip_1x10000.png", encode(Image.fromarray(strip()), "PNG"), "times the other"),
        Case("strip_10000x1.png", encode(Image.fromarray(np.ascontiguousarray(strip().T)), "PNG"), "times the other"),
        Case("panorama_20x1.png", encode(Image.fromarray(digit(50, 1000)), "PNG"), None),     # the widest allowed
        Case("tower_1x20.png", encode(Image.fromarray(digit(1000, 50)), "PNG"), None),
        Case("sixteen_bit.png", png16(), None),
        Case("cmyk.jpg", cmyk_jpeg(), None),
        Case("palette_transparent.png", palette_with_transparency(), None),
        Case("animated.gif", animated_gif(), None),
        Case("exif_rotated.jpg", exif_rotated_jpeg(), None),
        Case("all_white.png", encode(Image.new("RGB", (200, 200), (255, 255, 255)), "PNG"), None, blank=True),
        Case("all_black.png", encode(Image.new("RGB", (200, 200), (0, 0, 0)), "PNG"), None, blank=True),
        Case("huge_photo.jpg", huge_photo(), None),
    )


def case(name: str) -> Case:
    return next(c for c in corpus() if c.name == name)
