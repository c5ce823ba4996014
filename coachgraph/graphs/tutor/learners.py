"""Learners in LangGraph's store: each learner's model, answer history and sessions, and BKT
parameters fitted from every learner's history.

Layout (namespaces of a `BaseStore`; SQLite or PostgreSQL locally, the server's own store under
LangGraph's server):

- ``("learners", NAME)``, key ``model:DOMAIN``: the `LearnerModel` of NAME in DOMAIN.
- ``("learners", NAME, "history")``, key ``SESSION:TURN``: one answer (skill, correct, whether
  it counted, the model's prediction before it, the learner's running answer number).
- ``("learners", NAME, "sessions")``, key SESSION: the session's domain, targets, status, turns.
- ``("bkt", DOMAIN)``, key ``params``: per-skill parameters fitted from all learners.

Keys are derived from the session and turn, so a node that LangGraph re-runs writes the same
items again instead of adding new ones.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from langgraph.store.base import BaseStore

from coachgraph.curriculum.bkt import BKTParams, fit_skills
from coachgraph.curriculum.learner import LearnerModel
from coachgraph.errors import InputError

__all__ = ["answer_sequences", "check_name", "fit_store", "fitted_params", "learner_history", "list_sessions",
           "load_model", "record_answer", "save_model", "save_session", "stored_params"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_PAGE = 500


def check_name(value: str, what: str) -> str:
    """`value` when it is a valid learner or session name (letters, digits, ``-``, ``_``; at most 64).

    Raises:
        InputError: naming `what` and the rule.
    """
    if not isinstance(value, str) or not _NAME.match(value):
        raise InputError(f"{value!r} is not a valid name: use 1-64 letters, digits, '-' or '_', starting "
                         "with a letter or digit", source=what)
    return value


def _learner(name: str) -> tuple[str, ...]:
    return ("learners", check_name(name, "learner"))


def load_model(store: BaseStore, learner: str, domain: str) -> LearnerModel | None:
    """The stored model of `learner` in `domain` (None for a new learner).

    Raises:
        InputError: the stored record is of another schema version or malformed (naming it).
    """
    item = store.get(_learner(learner), f"model:{domain}")
    if item is None:
        return None
    try:
        return LearnerModel.model_validate(item.value)
    except ValueError as err:
        raise InputError(f"stored learner model cannot be read: {err}",
                         source=f"store learners/{learner}/model:{domain}") from None


def save_model(store: BaseStore, model: LearnerModel) -> None:
    """Store `model` (replacing the learner's previous one in its domain)."""
    store.put(_learner(model.learner), f"model:{model.domain}", model.model_dump(mode="json"))


def record_answer(store: BaseStore, learner: str, session: str, turn: int, event: Mapping[str, Any]) -> None:
    """Keep one answer in the learner's history (the same key for the same session and turn)."""
    store.put((*_learner(learner), "history"), f"{session}:{turn:06d}", dict(event))


def _iterate(store: BaseStore, namespace: tuple[str, ...]) -> Iterator[Any]:
    offset = 0
    while True:
        page = store.search(namespace, limit=_PAGE, offset=offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += _PAGE


def learner_history(store: BaseStore, learner: str, domain: str | None = None) -> list[dict[str, Any]]:
    """Every answer of `learner` (in `domain` when given), oldest first."""
    items = [dict(i.value) for i in _iterate(store, (*_learner(learner), "history"))]
    items = [i for i in items if domain is None or i.get("domain") == domain]
    return sorted(items, key=lambda i: (i.get("seq", 0), i.get("session", ""), i.get("turn", 0)))


def save_session(store: BaseStore, learner: str, session: str, record: Mapping[str, Any]) -> None:
    """Create or update the session's entry in the learner's list of sessions."""
    namespace = (*_learner(learner), "sessions")
    old = store.get(namespace, session)
    merged = {**(old.value if old else {"created_at": time.time()}), **record, "session_id": session,
              "updated_at": time.time()}
    store.put(namespace, session, merged)


def list_sessions(store: BaseStore, learner: str) -> list[dict[str, Any]]:
    """The learner's sessions, most recently used first."""
    found = [dict(i.value) for i in _iterate(store, (*_learner(learner), "sessions"))]
    return sorted(found, key=lambda s: -float(s.get("updated_at", 0)))


def answer_sequences(store: BaseStore, domain: str) -> dict[str, list[list[int]]]:
    """Per skill, one sequence of counted answers (1 right, 0 wrong) per learner, in order."""
    per: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for item in _iterate(store, ("learners",)):
        value = item.value
        if len(item.namespace) == 3 and item.namespace[2] == "history" and value.get("domain") == domain \
                and value.get("counted"):
            per[(value["skill"], item.namespace[1])].append((int(value.get("seq", 0)), int(bool(value["correct"]))))
    sequences: dict[str, list[list[int]]] = defaultdict(list)
    for (skill, _), answers in sorted(per.items()):
        sequences[skill].append([c for _, c in sorted(answers)])
    return dict(sequences)


def stored_params(store: BaseStore, domain: str) -> dict[str, BKTParams]:
    """BKT parameters fitted earlier for `domain` (empty when none were)."""
    item = store.get(("bkt", domain), "params")
    if item is None:
        return {}
    return {skill: BKTParams.model_validate(p) for skill, p in item.value.get("skills", {}).items()}


def fit_store(store: BaseStore, domain: str, *, min_answers: int = 50, default: BKTParams | None = None
              ) -> dict[str, dict[str, Any]]:
    """Fit each skill's BKT parameters to every learner's history in `domain` and keep them in the
    store, where new learner models start from them; skills with fewer than `min_answers` counted
    answers keep the default. Returns, per skill, the parameters and how many answers they rest on.
    """
    sequences = answer_sequences(store, domain)
    fitted = fit_skills(sequences, min_answers=min_answers, default=default)
    counts = {skill: sum(len(s) for s in seqs) for skill, seqs in sequences.items()}
    kept = {skill: p for skill, p in fitted.items() if counts[skill] >= min_answers}
    store.put(("bkt", domain), "params", {"skills": {s: p.model_dump() for s, p in kept.items()},
                                          "answers": counts, "fitted_at": time.time()})
    return {skill: {"params": p.model_dump(), "answers": counts[skill], "fitted": skill in kept}
            for skill, p in fitted.items()}


def fitted_params(store: BaseStore | None, domain: str, skills: tuple[str, ...],
                  overrides: Mapping[str, BKTParams], default: BKTParams) -> dict[str, BKTParams]:
    """The parameters a new learner model starts from: given overrides, else fitted ones, else `default`."""
    fitted = stored_params(store, domain) if store is not None else {}
    return {s: overrides.get(s) or fitted.get(s) or default for s in skills}
