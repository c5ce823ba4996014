"""The demo's tests reuse the orchestrate tests' fake-model pool."""

from tests.graphs.orchestrate.conftest import fake_model_backend, fake_pool, small_config

__all__ = ["fake_model_backend", "fake_pool", "small_config"]
