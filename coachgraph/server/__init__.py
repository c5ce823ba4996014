"""The HTTP API (FastAPI) over the recommender."""

from coachgraph.server.app import create_app

__all__ = ("create_app",)
