"""One tree of errors. Each has a stable machine code, an HTTP status and structured data.

They render as RFC 9457 problem+json and pickle as `(message, data)` so Ray can re-raise
them across processes.
"""
from __future__ import annotations

from typing import Any, ClassVar


class ProblemError(Exception):
    """Base of every error the platform reports to a client."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, message: str | None = None, data: dict[str, Any] | None = None, **fields: Any):
        self.message = message or self.title
        self.data = {**(data or {}), **fields}
        super().__init__(self.message)

    def __reduce__(self):
        return (self.__class__, (self.message, self.data))

    def headers(self) -> dict[str, str]:
        return {}

    def problem(self, instance: str | None = None, request_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://docs.p2p.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.message,
        }
        if instance:
            body["instance"] = instance
        if request_id:
            body["request_id"] = request_id
        if self.data:
            body["data"] = self.data
        return body


class BadRequest(ProblemError):
    """The request is malformed (bad syntax, unreadable body)."""
    code, status, title = "request.bad", 400, "Bad request"


class MalformedJson(BadRequest):
    """The body is not valid JSON (a syntax error, not a field that fails validation)."""
    code = "request.malformed_json"


class Unauthorized(ProblemError):
    """No credentials, or credentials that are invalid, expired or revoked."""
    code, status, title = "auth.unauthorized", 401, "Unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="p2p"'}


class Forbidden(ProblemError):
    """Authenticated, but the principal lacks the permission or scope."""
    code, status, title = "auth.forbidden", 403, "Forbidden"


class NotFound(ProblemError):
    """Unknown object, or one the caller may not see."""
    code, status, title = "resource.not_found", 404, "Not found"


class Conflict(ProblemError):
    """The object's state forbids the operation."""
    code, status, title = "resource.conflict", 409, "Conflict"


class Unprocessable(ProblemError):
    """Well-formed but invalid input."""
    code, status, title = "request.invalid", 422, "Unprocessable content"


class RateLimited(ProblemError):
    """Too many requests; `retry_after` seconds tell when to try again."""
    code, status, title = "rate.limited", 429, "Too many requests"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(int(self.data.get("retry_after", 1)))}


class Unavailable(ProblemError):
    """A dependency is overloaded or down; retry later."""
    code, status, title = "service.unavailable", 503, "Service unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(int(self.data.get("retry_after", 1)))}


class ValidationFailed(Unprocessable):
    """The body, path or query failed schema validation."""
    code = "request.validation_failed"


class IdempotencyKeyReused(Unprocessable):
    """The Idempotency-Key was used before with a different request."""
    code = "idempotency.key_reused"


class IdempotencyInProgress(Conflict):
    """A request with this Idempotency-Key is still running."""
    code = "idempotency.in_progress"


class InvalidToken(Unauthorized):
    """The bearer token is malformed, tampered, expired, of an unknown key or revoked."""
    code = "auth.invalid_token"


class InvalidApiKey(Unauthorized):
    """The API key is unknown or revoked."""
    code = "auth.invalid_api_key"


def all_error_classes() -> list[type[ProblemError]]:
    """Every ProblemError subclass loaded so far (used by the contract tests)."""
    seen: list[type[ProblemError]] = []
    stack = [ProblemError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen
