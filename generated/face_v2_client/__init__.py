"""A client library for accessing Baidu AI Cloud Face Recognition API v2"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
