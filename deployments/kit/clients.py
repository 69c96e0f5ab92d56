"""Typed calls between services. The caller writes `await self.calls.users.account(...)`;
in the compact topology (and in tests) that is a direct call on the service object, in the
full topology a DeploymentHandle call to the owning application. Pydantic models in and out
either way; a ProblemError raised by the callee is raised again in the caller."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from p2p.errors import NotFound, ProblemError, Unavailable

if TYPE_CHECKING:
    from deployments.kit.runtime import Runtime


class ServiceClient:
    def __init__(self, runtime: "Runtime", key: str):
        self._rt, self._key = runtime, key

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._rt.invoke(self._key, method, args, kwargs)

        call.__name__ = method
        return call


class Calls:
    """`calls.<service key>` is a client of that service."""

    def __init__(self, runtime: "Runtime"):
        self._rt = runtime
        self._clients: dict[str, ServiceClient] = {}

    def __getattr__(self, key: str) -> ServiceClient:
        if key.startswith("_"):
            raise AttributeError(key)
        if key not in self._clients:
            if key not in self._rt.registry:
                raise AttributeError(f"no service {key!r} in the registry")
            self._clients[key] = ServiceClient(self._rt, key)
        return self._clients[key]


async def invoke_local(service, method: str, args, kwargs):
    """Run a whitelisted method (an op or an @internal) of a local service object."""
    if method not in service.spec.internals:
        raise NotFound(f"{service.spec.key} has no callable {method!r}")
    return await getattr(service, method)(*args, **kwargs)


async def invoke_handle(handle, key: str, method: str, args, kwargs):
    """Call through a DeploymentHandle; the replica answers ('ok', value) or ('err', error)."""
    from ray.serve.exceptions import BackPressureError

    try:
        status, value = await handle.call.remote(key, method, args, kwargs)
    except BackPressureError:
        raise Unavailable(f"{key} is overloaded", service=key, retry_after=1) from None
    except ProblemError:
        raise
    except Exception as exc:  # replica died, deployment unavailable
        raise Unavailable(f"{key} is unavailable: {type(exc).__name__}", service=key, retry_after=2) from None
    if status == "err":
        raise value
    return value
