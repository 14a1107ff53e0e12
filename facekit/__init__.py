"""facekit: a typed SDK for the Baidu face recognition API v2."""

from __future__ import annotations

__version__ = "0.1.0"
