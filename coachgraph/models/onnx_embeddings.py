"""Sentence embeddings run by ONNX Runtime: the same vectors as sentence-transformers, faster on CPU.

A local sentence-transformers folder is exported once (model, pooling and normalisation in one
graph) into the user cache and reused. ONNX Runtime has far less fixed cost per call than
PyTorch, which dominates short texts such as search queries, and its int8 twin roughly halves
the arithmetic of long ones: together they keep dense search interactive on a small CPU.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from langchain_core.embeddings import Embeddings

from coachgraph.config import cache_dir
from coachgraph.errors import WeightsNotFoundError
from coachgraph.models.embeddings import DIRECT_MAX, length_groups

__all__ = ["OnnxEmbeddings", "export_sentence_transformer"]

_FORMAT = 2
"""Bumped when the exported graph changes, so older exports in the cache are not reused."""


class _Pooled(torch.nn.Module):
    """A sentence-transformers model as one function of the token tensors: its own pooling, then L2."""

    def __init__(self, model: torch.nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.model, self.names = model, list(names)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        features = dict(zip(self.names, tensors, strict=True))
        return torch.nn.functional.normalize(self.model(features)["sentence_embedding"], dim=-1)


_FILES = {False: "model.onnx", True: "model-int8.onnx"}
"""The exported graphs, by whether their weights are quantized to int8."""

_INT8_MIN_COSINE = 0.9
"""How close an int8 vector must stay to the exact one (MiniLM: 0.92 to 1, mean 0.96 on tool requests)."""

_CHECK_TEXTS = ["add two-digit numbers with carrying", "sum",
                "book a flight from Paris to Rome, then a hotel near the station"]
"""Texts every export must embed as sentence-transformers does before it is cached."""


def _session(model_file: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def _fingerprint(folder: Path) -> str:
    """Identifies the weights and the tools that export them, without reading the weights."""
    parts = [str(_FORMAT), torch.__version__]
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = file.stat()
        parts.append(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def export_sentence_transformer(folder: Path, target: Path) -> None:
    """Export the sentence-transformers model in `folder` into `target`: the exact graph, its
    int8 (dynamically quantized) twin, the tokenizer and `meta.json`; both graphs are checked
    against sentence-transformers' own vectors before anything is kept."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu").eval()
    names = list(model.tokenizer.model_input_names)
    sample = model.tokenizer(["an example sentence", "a second, longer example sentence"],
                             return_tensors="pt", padding=True)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=model.max_seq_length)
    shapes = tuple({0: batch, 1: length} for _ in names)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        torch.onnx.export(_Pooled(model, names), tuple(sample[n] for n in names), str(target / _FILES[False]),
                          input_names=names, output_names=["sentence_embedding"], dynamic_shapes=(shapes,),
                          external_data=False, dynamo=True, verbose=False)
    logging.disable(logging.WARNING)  # the quantizer's advice to pre-process, which this graph does not need
    try:
        quantize_dynamic(str(target / _FILES[False]), str(target / _FILES[True]), weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)
    model.tokenizer.save_pretrained(str(target))
    expected = model.encode(_CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    tokens = {n: v.numpy() for n, v in model.tokenizer(_CHECK_TEXTS, return_tensors="pt", padding=True).items()
              if n in names}
    exact = _session(target / _FILES[False], 1).run(None, tokens)[0]
    quantized = _session(target / _FILES[True], 1).run(None, tokens)[0]
    if not np.allclose(exact, expected, atol=1e-4) or (quantized * expected).sum(axis=1).min() < _INT8_MIN_COSINE:
        raise RuntimeError(f"the ONNX export of {folder} does not reproduce its embeddings")
    meta = {"inputs": names, "max_seq_length": model.max_seq_length,
            "dims": int(model.get_embedding_dimension())}
    (target / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def _exported(folder: Path) -> Path:
    """The cached export of `folder`, made (atomically, race-safe) on first use."""
    if not (folder / "config.json").is_file():
        raise WeightsNotFoundError(f"no sentence-transformers model in {folder}")
    root = cache_dir() / "onnx"
    final = root / f"{folder.resolve().parent.name}-{folder.name}-{_fingerprint(folder)}"
    if (final / "meta.json").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
    try:
        export_sentence_transformer(folder, work)
        with contextlib.suppress(OSError):  # another process finished the same export first
            work.rename(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


class OnnxEmbeddings(Embeddings):
    """A sentence-transformers folder exported to ONNX and run by ONNX Runtime on the CPU.

    `quantized` runs the int8 graph: about 1.5 times as fast again on long texts, at a mean
    cosine of about 0.95 to the exact vectors.
    """

    def __init__(self, path: str | Path, *, quantized: bool = False, batch_size: int = 64, threads: int = 0) -> None:
        from transformers import AutoTokenizer

        exported = _exported(Path(path))
        meta = json.loads((exported / "meta.json").read_text(encoding="utf-8"))
        self.inputs: list[str] = meta["inputs"]
        self.max_seq_length = int(meta["max_seq_length"])
        self.dims = int(meta["dims"])
        self.batch_size = batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(str(exported))
        self.session = _session(exported / _FILES[quantized], threads or torch.get_num_threads())

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        tokens = self.tokenizer(list(texts), padding=True, truncation=True,
                                max_length=self.max_seq_length, return_tensors="np")
        return self.session.run(None, {n: tokens[n].astype(np.int64) for n in self.inputs})[0]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        """Texts batched by similar token length, so short ones are not padded to the longest."""
        if len(texts) == 1:
            return self._run(texts)
        lengths = [len(ids) for ids in self.tokenizer(list(texts), truncation=True,
                                                        max_length=self.max_seq_length)["input_ids"]]
        if len(texts) <= DIRECT_MAX:
            groups = length_groups(lengths)
        else:
            order = sorted(range(len(texts)), key=lambda i: -lengths[i])
            groups = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        vectors = np.empty((len(texts), self.dims), dtype=np.float32)
        for group in groups:
            vectors[group] = self._run([texts[i] for i in group])
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0].tolist()

