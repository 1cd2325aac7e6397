"""Fixtures of the serving tests: apps built by the real factory over the real knowledge base."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import AdminToken, Settings

ADMIN = "admin-token-for-tests"
DEMO_ONLY = "demo-only-token"


def admin_settings(home: Path, **server: object) -> Settings:
    """Settings of an admin-only server (no voice models) over an existing SAMYU_HOME."""
    settings = Settings(home=home)
    settings.server.load_models = False
    settings.server.seed_collections = {}
    settings.server.admin_tokens = [
        AdminToken(token=ADMIN, name="operator"),
        AdminToken(token=DEMO_ONLY, name="dept", collections=["dept-a"]),
    ]
    for key, value in server.items():
        setattr(settings.server, key, value)
    return settings


def _client_factory(build: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    """Yields a factory of started TestClients (apps from `build(**server)`); stops them all."""
    clients: list[TestClient] = []

    def make(**server: object) -> TestClient:
        client = TestClient(build(**server))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def admin_client(demo_kb) -> Iterator[Callable[..., TestClient]]:
    """A factory of TestClients of admin-only apps sharing the session's demo collection."""
    yield from _client_factory(
        lambda **server: create_app(admin_settings(demo_kb.settings.home, **server))
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def talk_client(serving_home, serving_engines) -> Iterator[Callable[..., TestClient]]:
    """A factory of TestClients of voice apps (real engines) with the given server limits."""
    from tests.fixtures_serving import serving_settings

    yield from _client_factory(
        lambda **server: create_app(
            serving_settings(serving_home, **server), engines=serving_engines
        )
    )


@pytest.fixture
def fake_talk_client(fake_kb) -> Iterator[Callable[..., TestClient]]:
    """A factory of TestClients of voice apps whose engines are all fakes (tests/fakes.py):
    `make(generator=..., transcriber=..., synthesizer=..., assistant=AssistantSettings(...),
    **server_limits)`; no model loads."""
    from tests.fakes import fake_engines
    from tests.fixtures_serving import serving_settings

    def build(
        generator=None, transcriber=None, synthesizer=None, assistant=None, **server: object
    ) -> FastAPI:
        engines = fake_engines(
            fake_kb,
            generator=generator,
            transcriber=transcriber,
            synthesizer=synthesizer,
            settings=assistant,
        )
        return create_app(serving_settings(fake_kb.settings.home, **server), engines=engines)

    yield from _client_factory(build)
