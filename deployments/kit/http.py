"""The HTTP face of services, generated from their specs: routes, auth, problem+json errors,
request ids, idempotency, health and readiness. Built by a factory on each replica."""
from __future__ import annotations

import hashlib
import inspect
import json
import logging
import re
import time
import typing
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import (
    Body,
    Depends,
    FastAPI,
    File,
    Form,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo
from ray.serve.exceptions import BackPressureError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from deployments.kit.context import Ctx
from deployments.kit.idempotency import fingerprint, run_idempotent
from deployments.kit.spec import Op, ServiceSpec, has_permission
from p2p.errors import (
    Conflict,
    Forbidden,
    MalformedJson,
    ProblemError,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from p2p.uploads import Download, Upload

log = logging.getLogger("p2p.http")
bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/login, or an API key")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key from POST /authz/api-keys")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
PROBLEM = "application/problem+json"
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    s: {"description": d, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for s, d in [(400, "Bad request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not found"),
                 (409, "Conflict"), (422, "Validation failed"), (429, "Rate limited")]
}


def problem_body(exc: ProblemError, request: Request | None = None) -> dict[str, Any]:
    rid = getattr(request.state, "request_id", None) if request is not None else None
    return exc.problem(instance=str(request.url.path) if request is not None else None, request_id=rid)


def problem_response(exc: ProblemError, request: Request | None = None) -> JSONResponse:
    return JSONResponse(problem_body(exc, request), status_code=exc.status, media_type=PROBLEM,
                        headers=exc.headers())


def map_lower_error(exc: Exception) -> ProblemError | None:
    """The one place where errors of lower layers (the database, Serve) become public ones."""
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, IntegrityError):
        return Conflict("The change conflicts with existing data.")
    if isinstance(exc, OperationalError) and "locked" in str(exc).lower():
        return Unavailable("The database is busy; retry.", retry_after=1)
    if isinstance(exc, BackPressureError):
        return Unavailable("The platform is overloaded; retry.", retry_after=1)
    return None


class RequestIdMiddleware:
    """X-Request-ID in (if well-formed) and out, and one JSON access-log line per request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = None
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                cand = v.decode("latin-1")
                rid = cand if _REQUEST_ID.match(cand) else None
        rid = rid or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started, status = time.perf_counter(), 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("request", extra={"request_id": rid, "method": scope["method"], "path": scope["path"],
                                       "status": status, "ms": round((time.perf_counter() - started) * 1000, 2)})


class FullPath:
    """Serve strips an application's route prefix into `root_path`; our routes are written
    with full paths (the same in both topologies), so match on the full path."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("root_path"):
            root = scope["root_path"]
            path = scope["path"] if scope["path"].startswith(root) else root + scope["path"]
            if path != "/" and path.endswith("/") and path.rstrip("/") == root:
                path = root
            scope = dict(scope, root_path="", path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


_CONSTRAINTS = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "description")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a ceiling for any upload; services set their own lower limits


class FormField:
    """Marks a parameter as a multipart form field: `kind: Annotated[str, FormField()]`."""


@dataclass(frozen=True)
class RawRequest:
    """A parameter of this type receives the request as it came: the raw body bytes and the
    headers (lower-case names), for handlers that must verify a signature over the exact
    bytes (incoming webhooks). Plain data, so it pickles when the edge forwards an op."""

    body: bytes
    headers: dict[str, str]
    method: str = "POST"
    path: str = ""


class UploadTooLarge(ProblemError):
    """The uploaded file exceeds the platform's ceiling for any upload."""
    code, status, title = "request.too_large", 413, "Content too large"


async def read_upload(f: UploadFile) -> Upload:
    data = await f.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"Uploads are limited to {MAX_UPLOAD_BYTES} bytes.", limit=MAX_UPLOAD_BYTES)
    return Upload(data=data, filename=f.filename or "upload", content_type=f.content_type or "application/octet-stream")


def _param(name: str, annotation: Any, default: Any, path_names: set[str]) -> inspect.Parameter:
    """A FastAPI parameter for one argument of a service method: path, query, body, form
    field or upload. Constraints of `Annotated[..., Field(...)]` move into the FastAPI marker;
    validators (AfterValidator, ...) stay on the type, beside the marker, so they run."""
    constraints: dict[str, Any] = {}
    form = False
    validators: list[Any] = []
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *meta = typing.get_args(annotation)
        form = any(isinstance(m, FormField) for m in meta)
        for m in meta:
            found = {c: getattr(item, c) for item in [m, *getattr(m, "metadata", [])]
                     for c in _CONSTRAINTS if getattr(item, c, None) is not None}
            constraints.update(found)
            if not found and not isinstance(m, (FormField, FieldInfo)):
                validators.append(m)
    if annotation is Upload:
        annotation, marker = UploadFile, File()
    elif form:
        marker = Form(**constraints)
    elif name in path_names:
        marker = Path(**constraints)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        marker = Body()
    else:
        marker = Query(**constraints)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                             annotation=typing.Annotated[(annotation, *validators, marker)], default=default)


def _method_params(fn: Callable, hints: dict[str, Any], path_names: set[str]
                   ) -> tuple[list[inspect.Parameter], list[str], list[str]]:
    """The FastAPI parameters of a service method's arguments, and the names of its uploads
    and of its `RawRequest` arguments (filled from the request, not parameters)."""
    params, uploads, raws = [], [], []
    for name, p in inspect.signature(fn).parameters.items():
        if name in ("self", "ctx"):
            continue
        if hints.get(name) is RawRequest:
            raws.append(name)
            continue
        if hints.get(name) is Upload:
            uploads.append(name)
        params.append(_param(name, hints.get(name, str), p.default, path_names))
    return params, uploads, raws


def make_endpoint(runtime, spec: ServiceSpec, op_: Op, fn: Callable, target: Callable[[], Any]) -> Callable:
    hints = typing.get_type_hints(fn, include_extras=True)
    path_names = set(re.findall(r"{(\w+)}", op_.path))
    params = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("_bearer", inspect.Parameter.KEYWORD_ONLY,
                          annotation=HTTPAuthorizationCredentials | None, default=Depends(bearer)),
        inspect.Parameter("_api_key", inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
                          default=Depends(api_key_header)),
    ]
    own, uploads, raws = _method_params(fn, hints, path_names)
    params.extend(own)

    async def endpoint(request: Request, _bearer=None, _api_key=None, **kwargs):
        ctx = await request_context(runtime, request, op_, _bearer, _api_key)
        for name in uploads:
            kwargs[name] = await read_upload(kwargs[name])
        if raws:
            raw = RawRequest(body=await request.body(), headers={k.lower(): v for k, v in request.headers.items()},
                             method=request.method, path=request.url.path)
            kwargs.update({name: raw for name in raws})

        async def produce() -> Response:
            result = await getattr(target(), op_.name)(ctx, **kwargs)
            if result is None:
                return Response(status_code=204 if op_.status in (200, 204) else op_.status)
            if isinstance(result, Download):
                headers = {"Content-Disposition": f'inline; filename="{result.filename}"'} if result.filename else None
                return Response(content=result.data, status_code=op_.status, media_type=result.content_type,
                                headers=headers)
            if isinstance(result, BaseModel):
                body = result.model_dump_json()
            else:
                body = TypeAdapter(type(result)).dump_json(result).decode()
            return Response(content=body, status_code=op_.status, media_type="application/json")

        key = request.headers.get("idempotency-key")
        if op_.idempotent and key is not None:
            scope = str(ctx.principal.user_id) if ctx.principal else f"anon:{ctx.ip}"
            fp = fingerprint(request.method, request.url.path, await _body_bytes(request, kwargs, uploads))
            return await run_idempotent(runtime.kv, scope=scope, key=key, fp=fp,
                                        ttl=runtime.settings.idempotency_ttl_s, produce=produce)
        return await produce()

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = f"{spec.key}_{op_.name}"
    return endpoint


async def _body_bytes(request: Request, kwargs: dict, uploads: list[str]) -> bytes:
    """The request body for the idempotency fingerprint; a form was consumed while parsing,
    so it is fingerprinted from its parsed fields (files by their digest)."""
    if not uploads:
        return await request.body()
    fields = {k: hashlib.sha256(v.data).hexdigest() + v.content_type if isinstance(v, Upload) else v
              for k, v in kwargs.items()}
    return json.dumps(fields, sort_keys=True, default=str).encode()


async def request_context(runtime, request: Request, op_: Op, cred, api_key) -> Ctx:
    ip = request.headers.get("x-forwarded-for", "").split(",")[0].strip() or (
        request.client.host if request.client else None)
    principal = None
    if cred is not None or api_key:
        authz = f"{cred.scheme} {cred.credentials}" if cred is not None else None
        principal = await runtime.auth.from_headers(authz, api_key)
    ctx = Ctx(request_id=request.state.request_id, principal=principal, ip=ip,
              user_agent=request.headers.get("user-agent"))
    if not op_.public:
        if principal is None:
            raise Unauthorized("This operation needs a bearer token or an API key.")
        if op_.perm:
            if not has_permission(await runtime.permissions(principal), op_.perm):
                raise Forbidden(f"Missing permission {op_.perm}.", permission=op_.perm)
    return ctx


def add_service_routes(app: FastAPI, runtime, spec: ServiceSpec, target: Callable[[], Any]) -> None:
    async def ready() -> dict:
        await runtime.db.ping()
        return {"status": "ready", "service": spec.key}

    # Before the ops, so /users/healthz is not taken for /users/{id}.
    app.add_api_route(f"{spec.prefix}/healthz", lambda: {"status": "ok", "service": spec.key},
                      methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{spec.prefix}/readyz", ready, methods=["GET"], include_in_schema=False)
    for op_, fn in spec.ops:
        hints = typing.get_type_hints(fn)
        ret = hints.get("return")
        responses: dict = PROBLEM_RESPONSES
        if op_.files:  # `XOut | Download`: JSON is XOut, the files are listed beside it
            ret = next((a for a in typing.get_args(ret) if a is not Download), None)
            responses = {**PROBLEM_RESPONSES, op_.status: {"content": {t: {} for t in op_.files}}}
        app.add_api_route(
            op_.path, make_endpoint(runtime, spec, op_, fn, target), methods=[op_.method],
            status_code=op_.status, response_model=None if ret is type(None) else ret,
            tags=[spec.title], summary=op_.summary, description=inspect.getdoc(fn) or "",
            operation_id=f"{spec.key}_{op_.name}", responses=responses,
        )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError):
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        syntax = [e for e in errors if e["type"] == "json_invalid"]
        if syntax:  # unreadable JSON is bad syntax (400), not a field that fails validation (422)
            return problem_response(MalformedJson("The body is not valid JSON.", errors=syntax), request)
        return problem_response(ValidationFailed("The request failed validation.", errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        cls = {404: "resource.not_found", 405: "request.method_not_allowed"}.get(exc.status_code, "request.bad")
        err = ProblemError(str(exc.detail))
        # Starlette's own 404/405: per-instance status and code on the generic problem.
        err.status, err.code, err.title = exc.status_code, cls, str(exc.detail)  # type: ignore[misc]
        return JSONResponse(err.problem(instance=request.url.path, request_id=request.state.request_id),
                            status_code=exc.status_code, media_type=PROBLEM, headers=exc.headers)

    @app.exception_handler(Exception)
    async def on_any(request: Request, exc: Exception):
        mapped = map_lower_error(exc)
        if mapped is not None:
            return problem_response(mapped, request)
        log.exception("unhandled", extra={"request_id": getattr(request.state, "request_id", None)})
        return problem_response(ProblemError("An internal error occurred; it has been logged."), request)


def problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
            "type": "object", "title": "Problem (RFC 9457)",
            "properties": {k: {"type": t} for k, t in [("type", "string"), ("title", "string"), ("status", "integer"),
                                                       ("code", "string"), ("detail", "string"),
                                                       ("instance", "string"), ("request_id", "string"),
                                                       ("data", "object")]},
        }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _local_target(runtime: Any, key: str) -> Callable[[], Any]:
    return lambda: runtime.services[key]


def build_app(runtime, specs: list[ServiceSpec], *, targets: dict[str, Callable[[], Any]] | None = None,
              title: str = "P2P Delivery Platform", docs: bool = True, extra: Callable[[FastAPI], None] | None = None):
    """One FastAPI app serving `specs`; `targets` picks the object each spec's ops run on
    (the local service by default; a remote client on the edge)."""
    @asynccontextmanager
    async def lifespan(_app):
        if runtime is not None:
            await runtime.startup()
        yield

    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json" if docs else None)
    install_error_handlers(app)
    problem_schema(app)
    for spec in specs:
        add_service_routes(app, runtime, spec, (targets or {}).get(spec.key) or _local_target(runtime, spec.key))
    if extra:
        extra(app)
    app.add_middleware(RequestIdMiddleware)
    return app
