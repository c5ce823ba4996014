"""A served app with the tutor for the web tests: a small trained recommender beside tutor sessions."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from coachgraph.graphs.tutor import TutorContext
from coachgraph.graphs.tutor.session import TutorSessions
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.service import RecommendService
from coachgraph.recommend.train import TrainConfig
from coachgraph.server.app import create_app
from coachgraph.skills import SkillLibrary, install_starter
from tests.fakes import HashEmbeddings
from tests.recommend._trees import make_store

KEY = "s3cret"


def recommender(folder: Path) -> RecommendService:
    """A recommender trained briefly on the small test store."""
    make_store(folder / "store.sqlite").close()
    return RecommendService.open(str(folder / "store.sqlite"), embeddings=HashEmbeddings(dims=32),
                                 config=RecommenderConfig(train=TrainConfig(epochs=5)))


def tutor_app(folder: Path, service: RecommendService) -> tuple[FastAPI, TutorSessions]:
    """The app with the key set and tutor sessions (starter library) in `folder`."""
    library = SkillLibrary(folder / "skills", embeddings=None)
    install_starter(library)
    sessions = TutorSessions(str(folder / "tutor.sqlite"), TutorContext(library=library))
    return create_app(service.location, api_key=KEY, service=service, tutor=sessions), sessions
