"""Bayesian knowledge tracing: one hidden "knows the skill" state per skill and learner.

A learner either knows a skill or not. Before an answer they know it with probability ``p``; they
answer correctly with probability ``1 - slip`` when they know it and ``guess`` when they do not.
After each answer the posterior is moved by the learning transition: a learner who did not know
the skill learns it with probability ``learn`` (and one who knew it forgets with probability
``forget``, zero in standard BKT). Parameters are per skill, set by hand or fitted by
expectation-maximisation (Baum-Welch on the two-state hidden Markov model) from answer sequences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BKTParams", "fit_bkt", "fit_skills", "log_likelihood", "observe", "opportunities_to_mastery",
           "predict_correct"]

_EPS = 1e-6


class BKTParams(BaseModel):
    """The four (five with forgetting) parameters of one skill."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prior: float = Field(default=0.2, ge=0.0, le=1.0)
    """P(known) before the first answer."""
    learn: float = Field(default=0.15, ge=0.0, le=1.0)
    """P(unknown -> known) after each answer."""
    guess: float = Field(default=0.2, ge=0.0, lt=1.0)
    """P(correct | unknown)."""
    slip: float = Field(default=0.1, ge=0.0, lt=1.0)
    """P(wrong | known)."""
    forget: float = Field(default=0.0, ge=0.0, le=1.0)
    """P(known -> unknown) after each answer (0 in standard BKT)."""


def predict_correct(p: float, params: BKTParams) -> float:
    """P(the next answer is correct) when the learner knows the skill with probability `p`.

    >>> round(predict_correct(0.3, BKTParams(guess=0.2, slip=0.1)), 4)   # 0.3*0.9 + 0.7*0.2
    0.41
    """
    return p * (1.0 - params.slip) + (1.0 - p) * params.guess


def observe(p: float, correct: bool, params: BKTParams) -> float:
    """P(known) after one answer: the Bayes posterior given the answer, then the learning transition.

    >>> params = BKTParams(learn=0.1, guess=0.2, slip=0.1)
    >>> round(observe(0.3, True, params), 6)    # 0.27 / 0.41 = 0.658537, + 0.341463 * 0.1
    0.692683
    >>> round(observe(0.3, False, params), 6)   # 0.03 / 0.59 = 0.050847, + 0.949153 * 0.1
    0.145763
    """
    if correct:
        known, unknown = p * (1.0 - params.slip), (1.0 - p) * params.guess
    else:
        known, unknown = p * params.slip, (1.0 - p) * (1.0 - params.guess)
    posterior = known / (known + unknown) if known + unknown > 0 else p
    return posterior * (1.0 - params.forget) + (1.0 - posterior) * params.learn


def opportunities_to_mastery(p: float, params: BKTParams, threshold: float) -> float:
    """Expected answers until P(known) reaches `threshold` by learning alone (0 once there).

    It is the cost the planner gives a skill: ``(1 - p) (1 - learn)^n <= 1 - threshold``.

    >>> round(opportunities_to_mastery(0.2, BKTParams(learn=0.2), 0.95), 3)   # log(0.0625)/log(0.8)
    12.425
    >>> opportunities_to_mastery(0.96, BKTParams(), 0.95)
    0.0
    """
    if p >= threshold:
        return 0.0
    if params.learn <= 0.0:
        return math.inf
    if params.learn >= 1.0:
        return 1.0
    return math.log((1.0 - threshold) / (1.0 - p)) / math.log(1.0 - params.learn)


def _matrices(params: BKTParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial distribution, transition matrix and emission matrix over (unknown, known)."""
    start = np.array([1.0 - params.prior, params.prior])
    move = np.array([[1.0 - params.learn, params.learn], [params.forget, 1.0 - params.forget]])
    emit = np.array([[1.0 - params.guess, params.guess], [params.slip, 1.0 - params.slip]])
    return start, move, emit


def _forward_backward(obs: np.ndarray, start: np.ndarray, move: np.ndarray, emit: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, float]:
    """Scaled forward-backward of one sequence: state posteriors (T, 2), summed transition
    posteriors (2, 2) and the sequence's log-likelihood."""
    steps = len(obs)
    alpha, scale = np.zeros((steps, 2)), np.zeros(steps)
    alpha[0] = start * emit[:, obs[0]]
    for t in range(steps):
        if t:
            alpha[t] = (alpha[t - 1] @ move) * emit[:, obs[t]]
        scale[t] = alpha[t].sum()
        alpha[t] /= scale[t]
    beta = np.ones((steps, 2))
    xi = np.zeros((2, 2))
    for t in range(steps - 2, -1, -1):
        following = emit[:, obs[t + 1]] * beta[t + 1]
        beta[t] = (move @ following) / scale[t + 1]
        xi += np.outer(alpha[t], following) * move / scale[t + 1]
    return alpha * beta, xi, float(np.log(scale).sum())


def log_likelihood(sequences: Sequence[Sequence[int]], params: BKTParams) -> float:
    """Log-likelihood of answer sequences (1 correct, 0 wrong) under `params`.

    >>> p = BKTParams(prior=0.5, learn=0.0, guess=0.2, slip=0.1)
    >>> round(log_likelihood([[1]], p), 6) == round(math.log(0.5 * 0.9 + 0.5 * 0.2), 6)
    True
    """
    start, move, emit = _matrices(params)
    return sum(_forward_backward(np.asarray(s, dtype=int), start, move, emit)[2] for s in sequences if len(s))


def _clip(value: float, high: float) -> float:
    return float(min(max(value, _EPS), high))


def fit_bkt(sequences: Sequence[Sequence[int]], *, initial: BKTParams | None = None, fit_forget: bool = False,
            max_guess: float = 0.3, max_slip: float = 0.3, max_learn: float = 0.5, max_prior: float = 0.9, max_forget: float = 0.02, iterations: int = 100,
            tol: float = 1e-6) -> BKTParams:
    """Fit one skill's parameters to answer sequences (one per learner) by Baum-Welch.

    Guess, slip and learning rate are bounded (`max_guess`, `max_slip`, `max_learn`), as is
    usual for BKT, against degenerate fits: with guess or slip near one half the two states
    swap, and with a learning rate near one any answer, a wrong one included, leaves the skill
    mastered (which happens when most learners know a skill and the rest learn it within a
    problem).

    Raises:
        ValueError: when no sequence has an answer.
    """
    data = [np.asarray(s, dtype=int) for s in sequences if len(s)]
    if not data:
        raise ValueError("no answers to fit BKT parameters to")
    params = initial or BKTParams()
    last = -math.inf
    for _ in range(iterations):
        params, total = _em_step(data, params, fit_forget, (max_guess, max_slip, max_learn, max_prior, max_forget))
        if total - last < tol:
            break
        last = total
    return params


def _em_step(data: list[np.ndarray], params: BKTParams, fit_forget: bool,
             bounds: tuple[float, float, float, float, float]) -> tuple[BKTParams, float]:
    """One expectation-maximisation step; returns the new parameters and the old log-likelihood."""
    start, move, emit = _matrices(params)
    first, moved, occupied, correct_in, total = np.zeros(2), np.zeros((2, 2)), np.zeros(2), np.zeros(2), 0.0
    leaving = np.zeros(2)
    for obs in data:
        gamma, xi, loglik = _forward_backward(obs, start, move, emit)
        first += gamma[0]
        moved += xi
        leaving += gamma[:-1].sum(axis=0)
        occupied += gamma.sum(axis=0)
        correct_in += gamma[obs == 1].sum(axis=0)
        total += loglik
    max_guess, max_slip, max_learn, max_prior, max_forget = bounds
    learn = moved[0, 1] / leaving[0] if leaving[0] > 0 else params.learn
    forget = moved[1, 0] / leaving[1] if fit_forget and leaving[1] > 0 else params.forget
    return BKTParams(prior=_clip(first[1] / len(data), max_prior), learn=_clip(learn, max_learn),
                     guess=_clip(correct_in[0] / max(occupied[0], _EPS), max_guess),
                     slip=_clip(1.0 - correct_in[1] / max(occupied[1], _EPS), max_slip),
                     forget=_clip(forget, max_forget) if fit_forget else params.forget), total


def fit_skills(histories: Mapping[str, Sequence[Sequence[int]]], *, min_answers: int = 50,
               default: BKTParams | None = None) -> dict[str, BKTParams]:
    """Per-skill parameters: fitted where a skill has at least `min_answers` answers, else `default`.

    >>> fit_skills({"add": [[1, 0]]}, min_answers=10)["add"] == BKTParams()
    True
    """
    fallback = default or BKTParams()
    fitted = {}
    for skill, sequences in histories.items():
        enough = sum(len(s) for s in sequences) >= min_answers
        fitted[skill] = fit_bkt(sequences, initial=fallback) if enough else fallback
    return fitted
