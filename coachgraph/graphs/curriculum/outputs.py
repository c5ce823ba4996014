"""What a finished curriculum run leaves in its folder: curriculum, mastery table, curves, report."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from coachgraph.curriculum import save_curriculum
from coachgraph.types import Curriculum, CurriculumStep

__all__ = ["curriculum_of", "final_accuracy", "flat_settings", "mastery_table", "plot_curves", "write_report"]

logger = logging.getLogger(__name__)


def curriculum_of(values: Mapping[str, Any], teacher: str, seed: int) -> Curriculum:
    """The recorded decisions of a run as a `Curriculum`."""
    steps = [CurriculumStep.model_validate(s) for s in values.get("curriculum", [])]
    return Curriculum(teacher=teacher, seed=seed, steps=steps)


def final_accuracy(history: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Accuracy per skill at the last evaluation (empty before any)."""
    return dict(history[-1]["accuracy"]) if history else {}


def mastery_table(history: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table of held-out accuracy per skill: first evaluation, last one, and change.

    >>> print(mastery_table([{"step": 0, "accuracy": {"a": 0.5}}, {"step": 4, "accuracy": {"a": 0.75}}]))
    | skill | step 0 | step 4 | change |
    |---|---|---|---|
    | a | 0.50 | 0.75 | +0.25 |
    """
    if not history:
        return "No evaluation yet."
    first, last = history[0], history[-1]
    rows = [f"| skill | step {first['step']} | step {last['step']} | change |", "|---|---|---|---|"]
    for skill, after in last["accuracy"].items():
        before = first["accuracy"].get(skill, 0.0)
        rows.append(f"| {skill} | {before:.2f} | {after:.2f} | {after - before:+.2f} |")
    return "\n".join(rows)


def plot_curves(history: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Held-out accuracy per skill over training steps, one line per skill, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    steps = [h["step"] for h in history]
    for skill in (history[-1]["accuracy"] if history else {}):
        ax.plot(steps, [h["accuracy"].get(skill, 0.0) for h in history], marker="o", label=skill)
    ax.set(xlabel="training step", ylabel="held-out accuracy", ylim=(-0.02, 1.02),
           title="Learning curves per skill")
    if history:
        ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _practice(curriculum: Curriculum) -> str:
    counts: dict[str, int] = {}
    for step in curriculum.steps:
        counts[step.skill] = counts.get(step.skill, 0) + 1
    return "\n".join(f"- {skill}: {n}" for skill, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def flat_settings(config: BaseModel, prefix: str = "") -> dict[str, Any]:
    """A config's settings by dotted name, nested configs flattened.

    >>> class Inner(BaseModel):
    ...     b: int = 2
    >>> class Outer(BaseModel):
    ...     a: int = 1
    ...     inner: Inner = Inner()
    >>> flat_settings(Outer())
    {'a': 1, 'inner.b': 2}
    """
    flat: dict[str, Any] = {}
    for name in type(config).model_fields:
        value = getattr(config, name)
        flat |= flat_settings(value, f"{prefix}{name}.") if isinstance(value, BaseModel) else {f"{prefix}{name}": value}
    return flat


def write_report(run_dir: Path, values: Mapping[str, Any], curriculum: Curriculum,
                 config: BaseModel) -> dict[str, Path]:
    """Write ``curriculum.json``, ``mastery.md``, ``learning_curves.png`` and ``report.md``."""
    history = values.get("history", [])
    table = mastery_table(history)
    paths = {"curriculum": save_curriculum(curriculum, run_dir / "curriculum.json"),
             "curves": plot_curves(history, run_dir / "learning_curves.png")}
    paths["mastery"] = run_dir / "mastery.md"
    paths["mastery"].write_text(f"# Mastery\n\n{table}\n", encoding="utf-8")
    rewards = [m["mean_reward"] for m in values.get("metrics", [])]
    lines = ["# Curriculum run", "", f"Teacher `{curriculum.teacher}`, seed {curriculum.seed}, "
             f"{values.get('step', 0)} of {values.get('max_steps', 0)} steps.", "",
             "## Settings", "", *(f"- {k}: {v}" for k, v in flat_settings(config).items()), "",
             "## Held-out accuracy", "", table, "", "## Practice per skill", "", _practice(curriculum), "",
             f"Mean training reward: {sum(rewards) / len(rewards):.3f}" if rewards else "No training step yet.",
             "", "Learning curves: `learning_curves.png`."]
    paths["report"] = run_dir / "report.md"
    paths["report"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths
