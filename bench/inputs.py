"""Peak memory and time of the worst uploads we can build, through the app's input path and through the CLI.

    .venv/bin/python bench/inputs.py                  # input path only (decode, shrink, preprocess)
    .venv/bin/python bench/inputs.py --cli            # also `python -m dlviz predict FILE --model cnn_mnist`
    .venv/bin/python bench/inputs.py --only rgba --json artifacts/bench_inputs.json

Every file is accepted by the upload checks (at most `MAX_BYTES`, at most `MAX_PIXELS`) and as costly as we
could make it: 36-megapixel (6000×6000) PNGs of every mode Pillow reads (1-bit, grey, grey+alpha, palette with a
transparent colour, RGB, RGBA mostly transparent, 16-bit grey, 16-bit RGB and RGBA written by hand), a 40-megapixel
RGBA PNG at the pixel limit, baseline and progressive 36-megapixel JPEGs, a GIF and a lossless WebP. The files are
written once to `artifacts/bench_inputs/` (git-ignored) and reused.

Each measurement runs in a fresh Python process (so nothing cached or already allocated helps), timed from the
parent; the peak resident set size is the child's own `ru_maxrss` (from `os.wait4`). The input-path row is what one
upload costs the server: `decode_image` (as the upload tab calls it), `limit_size` to the stored size and the
per-dataset preprocessing (`model_view`); "baseline" is the same process importing the modules without a file,
and the 28-pixel PNG is the floor of the CLI (importing TensorFlow and loading the model dominate it).
Targets (issue 5): every accepted file ≤ 1 GB peak RSS and ≤ 3 s through the CLI.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

OUT = ROOT / "artifacts" / "bench_inputs"
SIDE = 6000                     # 36 megapixels
LIMIT_SIDE = 6324               # 39.99 megapixels: just under MAX_PIXELS


# --------------------------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------------------------

def _digit_mask(side: int) -> Image.Image:
    """A big hand-drawn-looking "7" (thick strokes) as an L image, 255 = ink."""
    mask = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(mask)
    w = side // 14
    d.line([(side * 0.28, side * 0.25), (side * 0.72, side * 0.25), (side * 0.45, side * 0.78)], fill=255, width=w)
    return mask


def _png16(path: Path, side: int, channels: int) -> None:
    """A 16-bit PNG (grey, RGB or RGBA; Pillow cannot write the last two), written row by row with zlib."""
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    mask = np.asarray(_digit_mask(side)) > 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    comp = zlib.compressobj(6)
    parts = []
    for r in range(side):
        row = np.zeros((side, channels), dtype=">u2")
        row[:, :min(channels, 3)] = 60000                        # light background
        row[mask[r], :min(channels, 3)] = 3000                    # dark ink
        if channels == 4:
            row[:, 3] = np.where(mask[r], 65535, 0)              # only the ink is opaque
        parts.append(comp.compress(b"\x00" + row.tobytes()))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts))
                     + chunk(b"IEND", b""))


def _photo_like(side: int) -> Image.Image:
    """A light, unevenly lit "paper" with a dark digit and mild noise: a realistic JPEG subject."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(200, 240, side, dtype=np.float32)
    paper = (ramp[None, :] + ramp[:, None]) / 2
    img = np.repeat(paper[:, :, None], 3, axis=2)
    img[np.asarray(_digit_mask(side)) > 0] = 40
    img += rng.normal(0, 3, (side, 1, 1)).astype(np.float32)    # cheap row noise: keeps the file under 20 MB
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


FILE_NAMES = ("png_tiny_28px.png", "png_1bit_36mp.png", "png_L_36mp.png", "png_RGB_36mp.png", "png_LA_transparent_36mp.png",
              "png_RGBA_transparent_36mp.png", "png_RGBA_transparent_40mp.png", "png_P_transparency_36mp.png",
              "png_I16_36mp.png", "png_RGB48_36mp.png", "png_RGBA64_transparent_36mp.png", "jpeg_36mp.jpg",
              "jpeg_progressive_36mp.jpg", "gif_36mp.gif", "webp_lossless_16mp.webp")


def build_files(out: Path = OUT) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    def make(name: str, writer) -> None:
        path = out / name
        if not path.exists():
            tmp = path.with_suffix(path.suffix + ".tmp")
            writer(tmp)
            tmp.replace(path)
        files[name] = path

    mask = None

    def mask_img() -> Image.Image:
        nonlocal mask
        if mask is None:
            mask = _digit_mask(SIDE)
        return mask

    def light(mode: str) -> Image.Image:
        gray = Image.eval(mask_img(), lambda v: 235 - v * 200 // 255)
        return gray.convert(mode)

    make("png_tiny_28px.png", lambda p: _digit_mask(28).save(p, "PNG"))     # the floor: what any file costs
    make("png_1bit_36mp.png", lambda p: Image.eval(mask_img(), lambda v: 255 - v).convert("1").save(p, "PNG"))
    make("png_L_36mp.png", lambda p: light("L").save(p, "PNG"))
    make("png_RGB_36mp.png", lambda p: light("RGB").save(p, "PNG"))

    def la(p):
        img = Image.merge("LA", [Image.new("L", (SIDE, SIDE), 20), mask_img()])
        img.save(p, "PNG")
    make("png_LA_transparent_36mp.png", la)

    def rgba(p, side=SIDE):
        m = mask_img() if side == SIDE else _digit_mask(side)
        img = Image.merge("RGBA", [Image.new("L", (side, side), 20)] * 3 + [m])
        img.save(p, "PNG")
    make("png_RGBA_transparent_36mp.png", rgba)
    make("png_RGBA_transparent_40mp.png", lambda p: rgba(p, LIMIT_SIDE))

    def palette(p):
        img = light("L").convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
        img.save(p, "PNG", transparency=0)
    make("png_P_transparency_36mp.png", palette)

    def gray16(p):
        arr = (np.asarray(mask_img(), dtype=np.uint16) * 200 + 3000)
        Image.fromarray(arr).save(p, "PNG")          # uint16 -> mode I;16
    make("png_I16_36mp.png", gray16)
    make("png_RGB48_36mp.png", lambda p: _png16(p, SIDE, 3))
    make("png_RGBA64_transparent_36mp.png", lambda p: _png16(p, SIDE, 4))

    photo = None

    def photo_img():
        nonlocal photo
        if photo is None:
            photo = _photo_like(SIDE)
        return photo
    make("jpeg_36mp.jpg", lambda p: photo_img().save(p, "JPEG", quality=85))
    make("jpeg_progressive_36mp.jpg", lambda p: photo_img().save(p, "JPEG", quality=85, progressive=True))
    make("gif_36mp.gif", lambda p: light("L").save(p, "GIF"))
    make("webp_lossless_16mp.webp", lambda p: light("RGB").resize((4000, 4000)).save(p, "WEBP", lossless=True))
    return files


# --------------------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------------------

PIPELINE = """
import sys, json
sys.path.insert(0, {root!r})
from pathlib import Path
from dlviz.inputs import ChosenInput, InputError, decode_image, limit_size, model_view
path = {path!r}
if path:
    data = Path(path).read_bytes()
    try:
        rgb = limit_size(decode_image(data, Path(path).name), 1024)
        try:
            view = model_view(ChosenInput.from_rgb(rgb, source="upload", name=path), dataset="mnist")
        except TypeError:          # before the per-dataset preprocessing
            view = model_view(ChosenInput.from_rgb(rgb, source="upload", name=path))
        print(json.dumps({{"ok": True, "shape": list(rgb.shape)}}))
    except InputError as e:
        print(json.dumps({{"ok": False, "error": str(e)}}))
"""


LAUNCHER = """
import atexit, runpy, sys

def _report():
    with open("/proc/self/status") as f:
        peak = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    sys.stderr.write(f"\\nVMHWM_KB {peak}\\n")
    sys.stderr.flush()

atexit.register(_report)
sys.argv = sys.argv[1:]
if sys.argv[0] == "-c":
    code = sys.argv[1]
    sys.argv = ["-c", *sys.argv[2:]]
    exec(compile(code, "<bench>", "exec"), {"__name__": "__main__"})
else:
    sys.argv = [sys.argv[0], *sys.argv[1:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def measure(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of `python <args>` in a fresh process.

    The peak is the child's own high-water mark (VmHWM, read by the child at exit): `ru_maxrss` of a forked child
    would include the parent's memory at fork time.
    """
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *args], capture_output=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - started
    err = proc.stderr.decode(errors="replace")
    peaks = [line.split()[1] for line in err.splitlines() if line.startswith("VMHWM_KB ")]
    mb = int(peaks[-1]) / 1024 if peaks else float("nan")
    return seconds, mb, proc.stdout.decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", action="store_true", help="also time `python -m dlviz predict` per file")
    parser.add_argument("--model", default="cnn_mnist")
    parser.add_argument("--only", help="files whose name contains this")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_only:
        build_files()
        return 0

    if not all((OUT / name).exists() for name in FILE_NAMES):    # build in a child: this process stays small
        subprocess.run([sys.executable, __file__, "--build-only"], check=True, cwd=ROOT)
    files = {name: OUT / name for name in FILE_NAMES}
    if args.only:
        files = {k: v for k, v in files.items() if args.only.lower() in k.lower()}
    rows = []
    base_s, base_mb, _ = measure(["-c", PIPELINE.format(root=str(ROOT), path="")])
    print(f"baseline (python + numpy + Pillow + dlviz.inputs, no file): {base_mb:.0f} MB, {base_s:.2f} s")
    if args.cli:
        cli_s, cli_mb, _ = measure(["dlviz", "models"])
        print(f"baseline CLI (`python -m dlviz models`, no TensorFlow): {cli_mb:.0f} MB, {cli_s:.2f} s")
    header = f"| file | bytes | input path: peak RSS | time | result |" + (" CLI predict: peak RSS | time |"
                                                                                if args.cli else "")
    print()
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, path in files.items():
        s, mb, out = measure(["-c", PIPELINE.format(root=str(ROOT), path=str(path))])
        try:
            result = json.loads(out.strip().splitlines()[-1])
            verdict = "×".join(map(str, result["shape"])) if result["ok"] else "refused: " + result["error"][:50]
        except (ValueError, IndexError):
            verdict = "CRASHED"
        row = {"file": name, "bytes": path.stat().st_size, "pipeline_s": round(s, 2), "pipeline_mb": round(mb),
               "result": verdict}
        line = f"| {name} | {path.stat().st_size / 1e6:.1f} MB | {mb:.0f} MB | {s:.2f} s | {verdict} |"
        if args.cli:
            cs, cmb, _ = measure(["dlviz", "predict", str(path), "--model", args.model])
            row.update(cli_s=round(cs, 2), cli_mb=round(cmb))
            line += f" {cmb:.0f} MB | {cs:.2f} s |"
        rows.append(row)
        print(line, flush=True)
    worst = max(rows, key=lambda r: r["pipeline_mb"])
    print(f"\nworst input path: {worst['file']} {worst['pipeline_mb']} MB; slowest: "
          f"{max(rows, key=lambda r: r['pipeline_s'])['pipeline_s']} s")
    if args.cli:
        print(f"worst CLI: {max(r['cli_mb'] for r in rows)} MB, slowest {max(r['cli_s'] for r in rows)} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"baseline_mb": round(base_mb), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
