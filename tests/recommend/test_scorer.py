"""The scorer learns, is deterministic, round-trips a checkpoint and explains its scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from coachgraph.recommend.scorer import ARCHS, HISTORY, Scorer, ScorerConfig
from coachgraph.recommend.train import Encoded, TrainConfig, batch_tensors, train


def _data(n: int = 32, c: int = 6, f: int = 5, seed: int = 0) -> Encoded:
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(n, c, f)).astype(np.float32)
    targets = rng.integers(0, c, n)
    feats[np.arange(n), targets, 0] += 3.0  # the chosen candidate stands out on feature 0 ...
    feats[np.arange(n), targets, 1] *= feats[np.arange(n), targets, 2]  # ... and on a cross
    items = rng.integers(1, 20, (n, c))
    path = rng.integers(0, 20, (n, 16))
    return Encoded(feats, np.ones((n, c), bool), items, path, targets, [["x"] * c] * n, [f"t{i}" for i in range(n)])


def _config(arch: str) -> ScorerConfig:
    return ScorerConfig(n_features=5, arch=arch, n_items=20, groups=(("a", 0, 2), ("b", 2, 5)), seed=3)


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_overfits_32_decisions(arch: str) -> None:
    data = _data()
    model = Scorer(_config(arch))
    losses = train(model, data, TrainConfig(epochs=150, batch_size=32, lr=1e-2, weight_decay=0.0))
    assert losses[-1] < 0.25 * losses[0]
    scores, _ = model(batch_tensors(data, slice(None)))
    assert (scores.argmax(1).numpy() == data.targets).mean() >= 0.9


def test_same_seed_same_weights_and_checkpoint_roundtrip(tmp_path: Path) -> None:
    data = _data()
    first, second = Scorer(_config("seq")), Scorer(_config("seq"))
    train(first, data, TrainConfig(epochs=3, seed=1))
    train(second, data, TrainConfig(epochs=3, seed=1))
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    first.save(tmp_path / "m.pt", {"vocab": {"a": 1}})
    loaded, extra = Scorer.from_checkpoint(tmp_path / "m.pt")
    batch = batch_tensors(data, slice(0, 4))
    assert torch.allclose(first.eval()(batch)[0], loaded(batch)[0]) and extra == {"vocab": {"a": 1}}


def test_loss_masks_padding_and_explains_per_group() -> None:
    data = _data(n=4)
    data.mask[:, -2:] = False
    model = Scorer(_config("seq")).eval()
    batch = batch_tensors(data, slice(None))
    scores, loss = model(batch, torch.from_numpy(data.targets % 4))
    assert torch.isinf(scores[:, -2:]).all() and torch.isfinite(loss)
    explained, parts = model.explain(batch)
    assert set(parts) == {"a", "b", HISTORY} and parts["a"].shape == (4, 6)
    assert torch.allclose(explained[:, :4], scores[:, :4], atol=1e-5)
    linear = Scorer(_config("linear")).eval()
    _, lin_parts = linear.explain(batch)
    base = linear.linear.bias.detach()
    total = lin_parts["a"] + lin_parts["b"] + base
    assert torch.allclose(total[:, :4], linear(batch)[0][:, :4], atol=1e-5)  # exact for a linear model
