"""The FastAPI app: `create_app()` is the factory uvicorn runs (`samyu serve`).

Routes: `/ws/talk` (citizens, docs/protocol.md), `/admin/...` (departments and operators,
token-protected; OpenAPI at `/docs`), `/healthz`, `/readyz`, `/metrics`, and the widget at `/`.
Models load once, in the background after start-up, so `/healthz` answers at once and
`/readyz` says when the server can take calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving import admin, api_docs, meetings, talk
from serving.protocol import PROTOCOL_VERSION
from serving.redaction import install_redaction
from serving.runtime import Engines, Runtime
from serving.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, *, engines: Engines | None = None) -> FastAPI:
    """A new app. `engines`: already-loaded models to share (tests); None = load them."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.server.redact_logs:
            install_redaction()
        runtime = Runtime(settings, engines)
        app.state.runtime = runtime
        runtime.start_loading()
        yield
        await runtime.shutdown()
        if getattr(app.state, "meetings", None) is not None:
            app.state.meetings.shutdown()  # queued meeting jobs are cancelled

    app = FastAPI(
        title="samyu voice assistant",
        version=f"protocol {PROTOCOL_VERSION}",
        description="Citizens talk on `/ws/talk` (see docs/protocol.md); departments and "
        "operators use the token-protected `/admin` API below.",
        lifespan=lifespan,
        docs_url=None,  # served by api_docs from local assets, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    if settings.server.cors_origins:  # off unless configured: same-origin pages need none
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodySizeLimit, limit=settings.server.max_upload_bytes, prefix="/admin")
    app.include_router(talk.router)
    app.include_router(admin.router)
    app.include_router(meetings.router)
    app.add_api_websocket_route("/ws/meeting", meetings.live_meeting)
    app.add_middleware(BodySizeLimit, limit=settings.meetings.max_upload_bytes, prefix="/meetings")
    _health_routes(app)
    api_docs.install(app)
    # The widget's files are public (no credentials, nothing secret): any page may load them,
    # and a department's page on another origin must, for its AudioWorklet module, which
    # browsers fetch in CORS mode. Sessions are guarded by allowed_origins on /ws/talk, and
    # /admin gets CORS headers only from server.cors_origins above.
    files = StaticFiles(directory=STATIC, html=True)
    shared = CORSMiddleware(files, allow_origins=["*"], allow_methods=["GET"])

    async def widget_files(scope: Scope, receive: Receive, send: Send) -> None:
        # a preflight for an /admin or /meetings route lands here (no OPTIONS route): no
        # CORS for it
        under_admin = scope.get("path", "").startswith(("/admin", "/meetings"))
        await (files if under_admin else shared)(scope, receive, send)

    app.mount("/", widget_files, name="widget")
    return app


def _health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Models loaded and indexes present")
    def readyz(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        collections = {
            name: runtime.has_collection(name) for name in runtime.settings.server.seed_collections
        }
        ready = runtime.ready and all(collections.values())
        body = {
            "ready": ready,
            "models": runtime.status["models"],
            "collections": collections,
            "sessions": runtime.active_sessions,
            "max_sessions": runtime.settings.server.max_sessions,
            "load_seconds": runtime.engines.load_seconds if runtime.engines else {},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics")
    def metrics(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")


class BodySizeLimit:
    """413 for request bodies over `limit` bytes under `prefix`, before anything parses them.

    Starlette spools a multipart upload to disk before the route sees it, so the limit must
    act on the raw stream: by Content-Length when the client sends one, and by counting the
    bytes as they arrive otherwise (chunked uploads). No library middleware does this.
    """

    def __init__(self, app: ASGIApp, *, limit: int, prefix: str) -> None:
        self.app, self.limit, self.prefix = app, limit, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        seen = 0
        started = False
        refused = False

        async def counted_receive() -> Message:
            # Over the limit: answer 413 at once and tell the app the client left. Raising here
            # instead would reach the multipart parser, which turns any error into a 400.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True
                    if not started:
                        await self._too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 was the answer; whatever the app says after it is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not refused:
                raise

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body larger than server.max_upload_bytes={self.limit}"},
            status_code=413,
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
