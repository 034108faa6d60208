"""Fast encoding and decoding with a trained autoencoder or VAE, for interactive use.

`model.predict` costs ~25 ms per call and Streamlit clears Keras' session after every rerun, so the page never
calls it: `Coder` compiles the encoder and the decoder once (XLA, like `dlviz.explain.Inspector`) for a few fixed
batch sizes and pads each batch up to the next one, so a 30×30 manifold grid is one call of the decoder.

    coder = Coder(dlviz.registry.load_model("vae2d_mnist"))
    enc = coder.encode(images)          # images (N, 28, 28) in [0, 1] -> Encoded(code (N, d), log_var (N, d) | None)
    images = coder.decode(codes)        # (N, d) -> (N, 28, 28) in [0, 1]
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

ENCODE_BATCHES = (1, 4, 32)                    # the user's input; two inputs or a few noisy copies; more
# one click, interpolation steps, samples; bigger sets (manifold grids up to 30×30) go in chunks of 128: XLA's
# transposed convolutions slow down on big batches here (vae2d's 30×30 grid as one 900 batch 135 ms, in 128-row
# chunks 57 ms; a 20×20 grid padded to 900 took 133 ms, now 26)
DECODE_BATCHES = (1, 16, 64, 128)


@dataclass(frozen=True)
class Encoded:
    code: np.ndarray                  # (N, d): the AE's code, the VAE's mean μ
    log_var: np.ndarray | None        # (N, d): the VAE's log σ², None for an AE

    @property
    def sigma(self) -> np.ndarray | None:
        return None if self.log_var is None else np.exp(0.5 * self.log_var)


class Coder:
    """XLA compiles each padded batch size on first use (~0.3 s); `warm()` does it ahead of time."""

    def __init__(self, model):
        self.model = model
        outputs = model.encoder.outputs
        self.is_vae = len(outputs) == 3               # [z_mean, z_log_var, z]
        self.latent_dim = int(outputs[0].shape[-1])
        self._encode = self._compile(model.encoder, (28, 28, 1), self.is_vae)
        self._decode = self._compile(model.decoder, (self.latent_dim,), False)

    def warm(self, encode: tuple[int, ...] = ENCODE_BATCHES, decode: tuple[int, ...] = DECODE_BATCHES) -> "Coder":
        for n in encode:
            self._encode(np.zeros((n, 28, 28, 1), np.float32))
        for n in decode:
            self._decode(np.zeros((n, self.latent_dim), np.float32))
        return self

    @staticmethod
    def _compile(part, shape: tuple, vae: bool):
        """x -> the part's output, one XLA function per batch size (each with a fixed signature: no retracing)."""
        import tensorflow as tf

        def forward(x):
            out = part(x, training=False)
            return (out[0], out[1]) if vae else out   # the VAE's sampled z is never needed here

        def plain(x):           # no XLA on this platform: the plain Keras path still works
            out = part.predict_on_batch(x)
            return (out[0], out[1]) if vae else out

        compiled: dict[int, object] = {}
        lock = threading.Lock()      # one Coder serves every session (thread): compile each size once

        def call(x):
            n = len(x)
            if n not in compiled:
                with lock:
                    if n not in compiled:
                        fn = tf.function(forward, jit_compile=True,
                                         input_signature=[tf.TensorSpec((n, *shape), tf.float32)])
                        try:
                            fn(tf.zeros((n, *shape), tf.float32))
                        except Exception:
                            fn = plain
                        compiled[n] = fn
            return compiled[n](x)

        call(np.zeros((1, *shape), np.float32))
        return call

    @staticmethod
    def _padded(x: np.ndarray, sizes: tuple[int, ...]) -> list[tuple[np.ndarray, int]]:
        """Chunks of x padded with zeros to one of `sizes` (so each compiled shape is reused): [(chunk, rows used)]."""
        chunks, start = [], 0
        while start < len(x):
            rows = min(len(x) - start, sizes[-1])
            size = next(s for s in sizes if s >= rows)
            chunk = np.zeros((size, *x.shape[1:]), np.float32)
            chunk[:rows] = x[start:start + rows]
            chunks.append((chunk, rows))
            start += rows
        return chunks

    def encode(self, images: np.ndarray) -> Encoded:
        """images: (N, 28, 28) or (N, 28, 28, 1) float in [0, 1]."""
        x = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
        codes, log_vars = [], []
        for chunk, rows in self._padded(x, ENCODE_BATCHES):
            out = self._encode(chunk)
            if self.is_vae:
                codes.append(np.asarray(out[0])[:rows])
                log_vars.append(np.asarray(out[1])[:rows])
            else:
                codes.append(np.asarray(out)[:rows])
        return Encoded(np.concatenate(codes), np.concatenate(log_vars) if self.is_vae else None)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """codes: (N, d) -> images (N, 28, 28) float32 in [0, 1]."""
        z = np.asarray(codes, np.float32).reshape(-1, self.latent_dim)
        out = [np.asarray(self._decode(chunk))[:rows] for chunk, rows in self._padded(z, DECODE_BATCHES)]
        return np.concatenate(out)[..., 0]

    def reconstruct(self, images: np.ndarray) -> tuple[Encoded, np.ndarray]:
        """(the code, the image decoded from it): for a VAE, decoded at the mean μ."""
        enc = self.encode(images)
        return enc, self.decode(enc.code)
