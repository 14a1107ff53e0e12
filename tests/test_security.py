"""The client's security: TLS verified unless asked, and nothing secret in logs.

TLS is tried against the real local server served over HTTPS on a loopback
port with a self-signed certificate made for the test by ``openssl`` (the
``cryptography`` package is not a dependency here; without ``openssl`` the
TLS tests are skipped).

The logging test runs a whole session against the real server in this
process with every logger at DEBUG, uvicorn's access log and httpcore's
trace included, and looks for credentials, tokens, signatures and image
bytes in every record and every exception it met.
"""

from __future__ import annotations

import base64
import logging
import shutil
import socket
import ssl
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from _faultkit import CountingTransport, Recorder, StubEngine, gated_server

import facekit
from facekit import samples
from facekit.compat import AipFace
from facekit.server import create_app
from facekit.server.store import FaceStore
from facekit.server.testing import make_key_pair, start_server_in_thread

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


# -- TLS -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl to make a test certificate with")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@contextmanager
def tls_server(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> Iterator[tuple[str, str, str]]:
    """The face server over HTTPS; yields its URL and key pair."""
    cert, key = certificate
    api_key, secret_key = make_key_pair()
    with FaceStore(tmp_path / "faces.db") as store:
        app = create_app(
            store=store, engine=StubEngine(), key_pairs={api_key: secret_key}
        )
        with start_server_in_thread(
            app, ssl_certfile=str(cert), ssl_keyfile=str(key)
        ) as url:
            yield url.replace("http://", "https://"), api_key, secret_key


def test_the_client_refuses_a_certificate_it_cannot_verify(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    with (
        tls_server(tmp_path, certificate) as (url, api_key, secret_key),
        facekit.FaceClient(api_key, secret_key, base_url=url, plugins=[]) as client,
        pytest.raises(facekit.TransportError) as raised,
    ):
        client.get_group_list()

    assert type(raised.value) is facekit.TransportError
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


async def test_the_async_client_refuses_it_too(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    with tls_server(tmp_path, certificate) as (url, api_key, secret_key):
        async with facekit.AsyncFaceClient(
            api_key, secret_key, base_url=url, plugins=[]
        ) as client:
            with pytest.raises(facekit.TransportError) as raised:
                await client.get_group_list()

    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)


def test_verification_is_off_only_when_asked(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    filters = list(warnings.filters)
    with (
        tls_server(tmp_path, certificate) as (url, api_key, secret_key),
        facekit.FaceClient(
            api_key, secret_key, base_url=url, plugins=[], verify=False
        ) as client,
    ):
        assert client.get_group_list().result == []

    # Turning it off for one client silenced nothing for the rest.
    assert warnings.filters == filters


async def test_a_given_ca_is_trusted_by_both_clients(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, _ = certificate
    trusted = ssl.create_default_context(cafile=str(cert))
    with tls_server(tmp_path, certificate) as (url, api_key, secret_key):
        with facekit.FaceClient(
            api_key, secret_key, base_url=url, plugins=[], verify=trusted
        ) as client:
            assert client.get_group_list().result == []
        async with facekit.AsyncFaceClient(
            api_key, secret_key, base_url=url, plugins=[], verify=trusted
        ) as async_client:
            assert (await async_client.get_group_list()).result == []


def test_the_compat_client_verifies_unlike_the_old_sdk(
    tmp_path: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, _ = certificate
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with tls_server(tmp_path, certificate) as (url, api_key, secret_key):
        refusing = AipFace("app", api_key, secret_key, base_url=url)
        try:
            with pytest.raises(facekit.TransportError) as raised:
                refusing.getGroupList()
        finally:
            refusing.close()

        # Verification stays on; the CA comes from where httpx looks for it.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        trusting = AipFace("app", api_key, secret_key, base_url=url)
        try:
            answer = trusting.getGroupList()
        finally:
            trusting.close()

    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
    assert answer["result"] == []


# -- nothing secret in any log ---------------------------------------------------------


@pytest.fixture
def uvicorn_logs_to_root() -> Iterator[None]:
    """Let uvicorn's loggers reach pytest's handler; restore them afterwards."""
    loggers = [logging.getLogger(name) for name in UVICORN_LOGGERS]
    saved = [(lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    for logger in loggers:
        logger.handlers = []
        logger.propagate = True
    yield
    for logger, (level, propagate, handlers) in zip(loggers, saved, strict=True):
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers = handlers


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _texts_of(error: BaseException) -> list[str]:
    texts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(texts) < 20:
        texts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return texts


def _image_pieces(image: bytes) -> list[str]:
    text = base64.b64encode(image).decode()
    middle = len(text) // 2
    pieces = [text[8:48], text[middle : middle + 40], text[-40:]]
    return pieces + [quote(piece, safe="") for piece in pieces]


def test_no_credential_token_signature_or_image_reaches_a_log_or_an_error(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    uvicorn_logs_to_root: None,
) -> None:
    caplog.set_level(1)  # every level there is, uvicorn's TRACE (5) included
    photos = {name: samples.path(name).read_bytes() for name in samples.NAMES}
    recorder = Recorder()
    slept: list[float] = []
    errors: list[BaseException] = []
    wrong_secret = "sk_wrong_" + "9f3ac1d0e5b7" * 2

    with gated_server(
        tmp_path / "f.db", uvicorn={"log_level": "trace", "log_config": None}
    ) as running:

        def client_of(secret: str, **options: object) -> facekit.FaceClient:
            return facekit.FaceClient(
                running.api_key,
                secret,
                base_url=running.base_url,
                transport=CountingTransport(recorder),
                **options,  # type: ignore[arg-type]
            )

        plugins = [
            facekit.RetryPlugin(3, sleep=slept.append),
            facekit.LoggingPlugin(),
        ]
        with client_of(running.secret_key, plugins=plugins) as client:
            client.add_user(
                "obama",
                "private info of obama",
                ["staff", "everyone"],
                [photos["obama-1"], photos["obama-2"]],
            )
            client.add_user(
                "biden", "private info of biden", "everyone", photos["biden-1"]
            )
            client.update_user(
                "biden", photos["collins-1"], user_info="new private info"
            )
            client.get_user("obama")
            client.get_group_list()
            client.get_group_users("everyone")
            client.add_group_user("staff", "biden")
            client.delete_group_user("staff", "biden")
            client.detect(photos["einstein-1"], face_fields=["age", "landmark"])
            client.match([photos["obama-1"], photos["obama-3"]])
            client.verify_user("obama", photos["obama-3"])
            client.identify_user("everyone", photos["obama-3"])
            with pytest.raises(facekit.NotFoundError) as missing:
                client.get_user("nobody")
            errors.append(missing.value)
            running.gate.arm(18, remaining=1)
            client.get_group_list()  # retried once
            running.gate.arm(110, remaining=1)
            client.get_group_list()  # a new token, and the call sent again
            client.delete_user("biden")
            errors.append(Exception(repr(client)))

        with client_of(running.secret_key, signing="always") as signer:
            signer.get_group_list()
        with (
            client_of(wrong_secret, plugins=[]) as impostor,
            pytest.raises(facekit.AuthenticationError) as refused,
        ):
            impostor.get_group_list()
        errors.append(refused.value)

    with (
        facekit.FaceClient(
            running.api_key,
            running.secret_key,
            base_url=f"http://127.0.0.1:{_closed_port()}",
            plugins=[],
        ) as nowhere,
        pytest.raises(facekit.TransportError) as unreachable,
    ):
        nowhere.get_group_list()
    errors.append(unreachable.value)

    # The scenario did what it says, so the search below means something.
    assert len(slept) == 1
    assert len(recorder.tokens) == 2
    assert recorder.authorizations
    names = {record.name for record in caplog.records}
    assert {"httpx", "httpcore.http11", "uvicorn.access", "facekit"} <= names
    assert "uvicorn.asgi" in names

    secrets = [
        running.api_key,
        running.secret_key,
        wrong_secret,
        *recorder.tokens,
        *(value.rsplit("/", 1)[1] for value in recorder.authorizations),
    ]
    images = [piece for photo in photos.values() for piece in _image_pieces(photo)]
    texts = [caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    texts += [text for error in errors for text in _texts_of(error)]
    everything = "\n".join(texts)
    for secret in secrets:
        assert secret not in everything
    for piece in images:
        assert piece not in everything
    for private in ("private info of obama", "new private info"):
        assert private not in everything

    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("client_id=***&client_secret=***" in line for line in access)
    assert any("access_token=***" in line for line in access)
