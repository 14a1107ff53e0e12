"""facekit's local face server: the v2 face API, offline, with real models.

``create_app`` builds the ASGI application (see :mod:`facekit.server.app`);
``serve`` runs it with uvicorn, as ``facekit serve`` does. For tests,
:mod:`facekit.server.testing` has pytest fixtures.
"""

from __future__ import annotations

from facekit.server._runner import serve
from facekit.server.app import create_app

__all__ = ["create_app", "serve"]
