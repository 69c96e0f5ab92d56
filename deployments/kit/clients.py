"""Typed calls between services.

A service declares each callee as a class attribute, naming the callee's service class (or
a Protocol of its `@internal` methods, where importing the class would make a cycle):

    class Bookings(Service):
        trips = uses(Trips)
        ...
        await self.trips.hold(...)

Editors and mypy see `self.trips` as a `Trips`, so they follow and check every call. At run
time it is a `Client`: a direct call on the local service object in the compact topology
and in tests, a DeploymentHandle call to the owning application in the full one, Pydantic
models in and out either way; a ProblemError raised by the callee is raised again in the
caller. Only `@internal` methods are callable: any other name is an `UnknownCall` (a bug,
caught by the tests and by `Runtime.check_clients` at startup), never a user-facing 404."""
from __future__ import annotations

import inspect
from typing import Any, Awaitable, Callable, TypeVar, cast

from ray.serve.exceptions import BackPressureError

from p2p.errors import ProblemError, Unavailable

S = TypeVar("S")


class UnknownCall(TypeError):
    """A call names a service or method that is not an `@internal` of the callee (a bug)."""


class Uses:
    """The descriptor `uses()` returns; resolves to the runtime's client of the callee."""

    def __init__(self, iface: type, key: str | None):
        self.iface, self._key = iface, key

    @property
    def key(self) -> str:
        if self._key is not None:
            return self._key
        spec = getattr(self.iface, "spec", None)
        if spec is None:
            raise UnknownCall(f"{self.iface.__name__} is not a service class; give uses() its key")
        return spec.key

    def methods(self) -> list[str]:
        """The methods the interface names (for a Protocol: all of them)."""
        return [n for n, _ in inspect.getmembers(self.iface, inspect.isfunction) if not n.startswith("_")]

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.rt.client(self.key)


def uses(iface: type[S], key: str | None = None) -> S:
    """A typed client of another service: `iface` is its service class, or a Protocol of
    the `@internal` methods this service needs (then `key` names the service)."""
    return cast(S, Uses(iface, key))


class Client:
    """The run-time side of `uses(...)`: one per callee per process."""

    def __init__(self, key: str, internals: dict[str, Any], invoke: Callable[..., Awaitable[Any]]):
        self._key, self._internals, self._invoke = key, internals, invoke

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_") or method not in self._internals:
            raise UnknownCall(f"{self._key}.{method} is not an @internal method of the {self._key} service")

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._invoke(self._key, method, args, kwargs)

        call.__name__ = method
        setattr(self, method, call)
        return call


async def invoke_local(service: Any, method: str, args: tuple, kwargs: dict) -> Any:
    """Run an `@internal` method of a local service object, checking the permission it states."""
    spec = service.spec
    declared = spec.internals.get(method)
    if declared is None:
        raise UnknownCall(f"{spec.key}.{method} is not an @internal method")
    if declared.perm:
        await service.require(args[0] if args else kwargs["ctx"], declared.perm)
    return await getattr(service, method)(*args, **kwargs)


async def invoke_handle(handle: Any, entry: str, key: str, method: str, args: tuple, kwargs: dict) -> Any:
    """Call through a DeploymentHandle; the replica answers ('ok', value) or ('err', error)."""
    try:
        status, value = await getattr(handle, entry).remote(key, method, args, kwargs)
    except BackPressureError:
        raise Unavailable(f"{key} is overloaded", service=key, retry_after=1) from None
    except ProblemError:
        raise
    except Exception as exc:  # replica died, deployment unavailable
        raise Unavailable(f"{key} is unavailable: {type(exc).__name__}", service=key, retry_after=2) from None
    if status == "err":
        raise value
    return value

