"""Sentence embeddings run by ONNX Runtime: the same vectors as sentence-transformers, faster on CPU.

A local sentence-transformers folder is exported once (model, pooling and normalisation in one
graph) into the user cache and reused. ONNX Runtime has far less fixed cost per call than
PyTorch, which dominates short texts such as search queries, and its int8 twin roughly halves
the arithmetic of long ones: together they keep dense search interactive on a small CPU.

A query's few clauses run as batches side by side, each on one thread: they are tiny matrices,
on which splitting every operator across threads costs more in hand-offs than it gains.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from langchain_core.embeddings import Embeddings

from coachgraph.config import cache_dir
from coachgraph.errors import WeightsNotFoundError
from coachgraph.models.batching import DIRECT_MAX, length_groups

__all__ = ["OnnxEmbeddings", "balanced_batches", "export_sentence_transformer"]

_FORMAT = 3
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
    # Idle pool threads that spin take cores from every other thread in the process (measured:
    # a query's side-by-side clause batches ran half as slow again beside an idle spinning pool).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def _fingerprint(folder: Path) -> str:
    """Identifies the weights and the tools that export them, without reading the weights."""
    parts = [str(_FORMAT), torch.__version__]
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = file.stat()
        parts.append(f"{file.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _export_graph(model: Any, names: list[str], file: Path) -> None:
    """Write the pooled model as ONNX with dynamic batch and length.

    The TorchScript exporter is tried first: on MiniLM its graph, once quantized, runs faster
    under ONNX Runtime than the dynamo exporter's; the dynamo exporter is used where the
    TorchScript one is missing or fails.
    """
    pooled = _Pooled(model, names)
    sample = model.tokenizer(["an example sentence", "a second, longer example sentence"],
                             return_tensors="pt", padding=True)
    inputs = tuple(sample[n] for n in names)
    common = {"input_names": names, "output_names": ["sentence_embedding"], "verbose": False}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporters' notes on their own internals
        try:
            torch.onnx.export(pooled, inputs, str(file), dynamo=False, opset_version=17,
                              dynamic_axes={n: {0: "batch", 1: "length"} for n in names}, **common)
            return
        except Exception as exc:  # noqa: BLE001 - any failure of the legacy exporter means: use dynamo
            logging.getLogger(__name__).info("TorchScript ONNX export failed (%s); using dynamo", exc)
        batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=model.max_seq_length)
        torch.onnx.export(pooled, inputs, str(file), dynamo=True, external_data=False,
                          dynamic_shapes=(tuple({0: batch, 1: length} for _ in names),), **common)


def export_sentence_transformer(folder: Path, target: Path) -> None:
    """Export the sentence-transformers model in `folder` into `target`: the exact graph, its
    int8 (dynamically quantized) twin, the tokenizer and `meta.json`; both graphs are checked
    against sentence-transformers' own vectors before anything is kept."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    # Eager attention exports as plain matrix products, which ONNX Runtime fuses and quantizes.
    model = SentenceTransformer(str(folder), device="cpu", model_kwargs={"attn_implementation": "eager"}).eval()
    names = list(model.tokenizer.model_input_names)
    _export_graph(model, names, target / _FILES[False])
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


_INPUTS = {"input_ids": "ids", "token_type_ids": "type_ids", "attention_mask": "attention_mask"}
"""Graph input → the `tokenizers.Encoding` attribute that fills it."""


def balanced_batches(lengths: Sequence[int], workers: int) -> list[list[int]]:
    """A few texts dealt into at most `workers` batches of about equal padded size.

    Longest first, each text goes to the batch whose padded size (rows times its longest row)
    grows least, so the workers finish together and short texts are seldom padded far.

    >>> balanced_batches([70, 18, 17, 20, 15], 2)
    [[0], [3, 1, 2, 4]]
    """
    batches: list[list[int]] = [[] for _ in range(workers)]
    for i in sorted(range(len(lengths)), key=lambda j: -lengths[j]):
        costs = [(len(b) + 1) * (lengths[b[0]] if b else lengths[i]) for b in batches]
        batches[costs.index(min(costs))].append(i)
    return [b for b in batches if b]


class OnnxEmbeddings(Embeddings):
    """A sentence-transformers folder exported to ONNX and run by ONNX Runtime on the CPU.

    `quantized` runs the int8 graph: about 1.5 times as fast again on long texts, at a mean
    cosine of about 0.95 to the exact vectors. `threads` is how many threads a call uses
    (default: as many as torch uses).
    """

    def __init__(self, path: str | Path, *, quantized: bool = False, batch_size: int = 64, threads: int = 0) -> None:
        from tokenizers import Tokenizer

        exported = _exported(Path(path))
        meta = json.loads((exported / "meta.json").read_text(encoding="utf-8"))
        self.inputs: list[str] = meta["inputs"]
        self.max_seq_length = int(meta["max_seq_length"])
        self.dims = int(meta["dims"])
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(exported / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.workers = max(1, threads or torch.get_num_threads())
        self._model_file = exported / _FILES[quantized]
        self.session = _session(self._model_file, self.workers)

    @functools.cached_property
    def _side_by_side(self) -> tuple[Any, ThreadPoolExecutor]:
        """A one-thread session and a pool to run several small batches at once (made on first use)."""
        return _session(self._model_file, 1), ThreadPoolExecutor(self.workers - 1, "onnx-embeddings")

    def _run(self, session: Any, encodings: Sequence[Any]) -> np.ndarray:
        """One padded batch through the graph."""
        width = max(len(e.ids) for e in encodings)
        feeds = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in self.inputs}
        for row, encoding in enumerate(encodings):
            for name in self.inputs:
                values = getattr(encoding, _INPUTS[name])
                feeds[name][row, :len(values)] = values
        return session.run(None, feeds)[0]

    def _tokenize(self, texts: Sequence[str]) -> list[Any]:
        # A few short texts tokenize faster one by one than through the parallel batch path.
        if len(texts) <= DIRECT_MAX:
            return [self.tokenizer.encode(text) for text in texts]
        return self.tokenizer.encode_batch(list(texts))

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        """Large batches and single texts run one batch at a time with every thread on each;
        a few texts (a query's clauses) run side by side instead, one thread per batch, since
        splitting each operator of such small matrices over threads costs more than it gains."""
        encodings = self._tokenize(texts)
        lengths = [len(e.ids) for e in encodings]
        if 1 < len(texts) <= DIRECT_MAX and self.workers > 1:
            return self._encode_side_by_side(encodings, balanced_batches(lengths, self.workers))
        if len(texts) <= DIRECT_MAX:
            groups = length_groups(lengths)
        else:
            order = sorted(range(len(texts)), key=lambda i: -lengths[i])
            groups = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        vectors = np.empty((len(texts), self.dims), dtype=np.float32)
        for group in groups:
            vectors[group] = self._run(self.session, [encodings[i] for i in group])
        return vectors

    def _encode_side_by_side(self, encodings: list[Any], batches: list[list[int]]) -> np.ndarray:
        session, pool = self._side_by_side
        pending = [(batch, pool.submit(self._run, session, [encodings[i] for i in batch])) for batch in batches[1:]]
        vectors = np.empty((len(encodings), self.dims), dtype=np.float32)
        vectors[batches[0]] = self._run(session, [encodings[i] for i in batches[0]])
        for batch, future in pending:
            vectors[batch] = future.result()
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0].tolist()
