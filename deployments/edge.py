"""The edge: the combined OpenAPI document, the docs page (assets served here, no CDN),
the service index and readiness of the whole platform; in the full topology also the
routes of alias prefixes, forwarded to their owners."""
from __future__ import annotations

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from deployments.kit.http import build_app
from deployments.registry import SPECS


class Forward:
    """The target of an alias route: runs the owner's operation through the runtime."""

    def __init__(self, runtime, key: str):
        self.runtime, self.key = runtime, key

    def __getattr__(self, method: str):
        async def run(ctx, **kwargs):
            return await self.runtime.forward_op(self.key, method, ctx, kwargs)

        return run


def combined_openapi() -> dict:
    """Every registered service's operations in one document; needs neither Ray nor a database."""
    return build_app(None, SPECS).openapi()


def add_edge_pages(app: FastAPI, runtime, specs, *, openapi_doc=None) -> None:
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")
    if openapi_doc is not None:
        app.openapi = lambda: openapi_doc

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="P2P Delivery Platform - API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon-32x32.png")

    @app.get("/", include_in_schema=False)
    async def index():
        return {"name": "P2P Delivery Platform", "docs": "/docs", "openapi": "/openapi.json",
                "services": [{"service": s.title, "prefix": s.prefix, "docs": f"/docs#/{s.title.replace(' ', '%20')}"}
                             for s in specs]}

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        if runtime is not None:
            await runtime.db.ping()
        return {"status": "ready"}


def build_edge_app(runtime) -> FastAPI:
    """The full topology's application at `/`: pages plus alias routes."""
    aliased = [s for s in SPECS if s.aliases]
    app = build_app(runtime, aliased, targets={s.key: (lambda k=s.key: Forward(runtime, k)) for s in aliased},
                    extra=lambda a: add_edge_pages(a, runtime, SPECS, openapi_doc=combined_openapi()))
    return app
