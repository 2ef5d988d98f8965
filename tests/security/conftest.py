"""The attacks of issue 14 are made against the same freshly built app as tests/app."""

from tests.app.conftest import make_client

__all__ = ["make_client"]
