"""A served app with the tutor for the web tests: the package's small recommender beside tutor sessions."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from coachgraph.graphs.tutor import TutorContext
from coachgraph.graphs.tutor.session import TutorSessions
from coachgraph.recommend.service import RecommendService
from coachgraph.server.app import create_app
from coachgraph.skills import SkillLibrary, install_starter

KEY = "s3cret"


def tutor_app(folder: Path, service: RecommendService) -> tuple[FastAPI, TutorSessions]:
    """The app with the key set and tutor sessions (starter library) in `folder`."""
    library = SkillLibrary(folder / "skills", embeddings=None)
    install_starter(library)
    sessions = TutorSessions(str(folder / "tutor.sqlite"), TutorContext(library=library))
    return create_app(service.location, api_key=KEY, service=service, tutor=sessions), sessions
