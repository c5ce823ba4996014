"""The scorer learns, is deterministic, round-trips a checkpoint and explains its scores."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from coachgraph.recommend.checkpoint import load_scorer, save_scorer
from coachgraph.recommend.ensemble import Ensemble
from coachgraph.recommend.fitting import choose_arch
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.scorer import ARCHS, HISTORY, Scorer, ScorerConfig
from coachgraph.recommend.train import (
    Encoded,
    ScorerTrainConfig,
    batch_tensors,
    held_out_split,
    trace_bucket,
    train,
)


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
    losses = train(model, data, ScorerTrainConfig(epochs=150, batch_size=32, lr=1e-2, weight_decay=0.0))
    assert losses[-1] < 0.25 * losses[0]
    scores, _ = model(batch_tensors(data, slice(None)))
    assert (scores.argmax(1).numpy() == data.targets).mean() >= 0.9


def test_same_seed_same_weights_and_checkpoint_roundtrip(tmp_path: Path) -> None:
    data = _data()
    first, second = Scorer(_config("seq")), Scorer(_config("seq"))
    train(first, data, ScorerTrainConfig(epochs=3, seed=1))
    train(second, data, ScorerTrainConfig(epochs=3, seed=1))
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    save_scorer(first, tmp_path / "m.json", {"vocab": {"a": 1}})
    loaded, extra = load_scorer(tmp_path / "m.json")
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


def test_ensemble_averages_members_and_roundtrips(tmp_path: Path) -> None:
    data = _data()
    members = [Scorer(replace(_config("mlp"), seed=s)) for s in (0, 1)]
    for s, member in enumerate(members):
        train(member, data, ScorerTrainConfig(epochs=3, seed=s))
    ensemble = Ensemble(members).eval()
    batch = batch_tensors(data, slice(0, 4))
    mean = (members[0](batch)[0] + members[1](batch)[0]) / 2
    assert torch.allclose(ensemble(batch)[0], mean, atol=1e-6)
    explained, parts = ensemble.explain(batch)
    assert torch.allclose(explained, mean, atol=1e-5) and set(parts) == {"a", "b"}
    save_scorer(ensemble, tmp_path / "e.json", {"vocab": {}})
    loaded, extra = load_scorer(tmp_path / "e.json")
    assert isinstance(loaded, Ensemble) and torch.allclose(loaded(batch)[0], mean, atol=1e-6) and extra == {"vocab": {}}


def test_architecture_is_chosen_on_held_out_training_traces() -> None:
    data = _data(n=40)
    data.feats[..., 0] = 0.0  # no feature tells the answer ...
    data.items[np.arange(40), data.targets] = 7  # ... but the chosen item's id always does
    config = RecommenderConfig(train=ScorerTrainConfig(epochs=30, min_steps=30, batch_size=8), seeds=1)
    assert choose_arch(data, np.arange(5), config, 20) == "seq"
    assert choose_arch(data, np.arange(5), replace(config, select_below=10), 20) == "mlp"  # too large to compare
    assert choose_arch(data, np.arange(5), replace(config, arch="linear", arch_choices=("mlp", "seq")), 20) == "linear"  # kept as asked


def test_held_out_traces_must_be_enough_to_validate_on() -> None:
    config = ScorerTrainConfig(val_share=0.1, min_val=30, min_val_traces=3)
    names = [f"trace-{i}" for i in range(200)]
    held = [t for t in names if trace_bucket(t, 1000) < 100]
    kept = [t for t in names if t not in held]
    rows = np.arange(60)

    def split(traces: list[str]) -> tuple[np.ndarray, np.ndarray]:
        data = _data(n=60)
        return held_out_split(replace(data, traces=traces), rows, config)

    two = [held[i % 2] if i < 40 else kept[i] for i in range(60)]  # 40 held-out decisions, 2 traces
    fit, val = split(two)
    assert len(val) == 0 and np.array_equal(fit, rows)
    three = [held[i % 3] if i < 40 else kept[i] for i in range(60)]  # 40 held-out decisions, 3 traces
    fit, val = split(three)
    assert np.array_equal(val, np.arange(40)) and np.array_equal(fit, np.arange(40, 60))
    few = [held[i % 3] if i < 20 else kept[i] for i in range(60)]  # 3 traces but only 20 decisions
    assert len(split(few)[1]) == 0
