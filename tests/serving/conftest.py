"""Fixtures of the serving tests: apps built by the real factory over the real knowledge base."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
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


@pytest.fixture
def admin_client(demo_kb) -> Iterator[Callable[..., TestClient]]:
    """A factory of TestClients of admin-only apps sharing the session's demo collection."""
    clients: list[TestClient] = []

    def make(**server: object) -> TestClient:
        client = TestClient(create_app(admin_settings(demo_kb.settings.home, **server)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def talk_client(serving_home, serving_engines) -> Iterator[Callable[..., TestClient]]:
    """A factory of TestClients of voice apps (real engines) with the given server limits."""
    from tests.fixtures_serving import serving_settings

    clients: list[TestClient] = []

    def make(**server: object) -> TestClient:
        app = create_app(serving_settings(serving_home, **server), engines=serving_engines)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
