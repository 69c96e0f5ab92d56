"""Start the platform on Ray: the code path of `p2p up` and of the end-to-end tests."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from importlib import import_module

import ray
from ray import serve

from actors import registry as actors
from deployments.serve import applications, relay_builder
from p2p.settings import Settings
from storage.migrate import upgrade


@dataclass
class Launched:
    api_url: str
    docs_url: str
    dashboard_url: str | None
    applications: list[str]
    started_cluster: bool


def _export_settings(settings: Settings) -> dict[str, str]:
    """Absolute paths and explicit URLs in the environment, so every Ray worker agrees."""
    data_dir = settings.ensure_data_dir().resolve()
    env = {"P2P_DATA_DIR": str(data_dir), "P2P_DATABASE_URL": settings.model_copy(
        update={"data_dir": data_dir}).effective_database_url, "P2P_ENV": settings.env,
        # where the platform answers, for what replicas hand out or call back (3-D Secure
        # pages, the sandbox processor's webhooks)
        "P2P_HTTP_HOST": settings.http_host, "P2P_HTTP_PORT": str(settings.http_port)}
    if settings.public_url:
        env["P2P_PUBLIC_URL"] = settings.public_url
    if settings.redis_url:
        env["P2P_REDIS_URL"] = settings.redis_url
    for key, value in os.environ.items():
        if key.startswith("P2P_") and key not in env:
            env[key] = value
    os.environ.update(env)
    return env


def start_ray(env: dict[str, str], *, num_cpus: int | None = None, dashboard: bool = True,
              dashboard_port: int = 8265, join: bool = True) -> bool:
    """Join a running cluster (`join`), or start a local one bound to loopback. True if started here."""
    if ray.is_initialized():
        return False
    runtime_env = {"env_vars": env}
    if join:
        try:
            ray.init(address="auto", namespace="p2p", runtime_env=runtime_env, log_to_driver=False)
            return False
        except (ConnectionError, RuntimeError, ValueError):
            pass
    # A local, loopback-only cluster: no token needed between its own processes.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(namespace="p2p", num_cpus=num_cpus, include_dashboard=dashboard, dashboard_host="127.0.0.1",
             dashboard_port=dashboard_port, runtime_env=runtime_env, log_to_driver=False)
    return True


def launch(settings: Settings, *, topology: str | None = None, num_cpus: int | None = None,
           dashboard: bool = True, join: bool = True, on_progress=None, timeout_s: float = 600) -> Launched:
    topology = topology or settings.topology
    env = _export_settings(settings)
    upgrade(env["P2P_DATABASE_URL"])
    started = start_ray(env, num_cpus=num_cpus, dashboard=dashboard, dashboard_port=settings.dashboard_port,
                        join=join)
    serve.start(http_options={"host": settings.http_host, "port": settings.http_port})
    if not settings.redis_url:
        ray.get(actors.kv_store().ttl.remote("warm-up"))
    apps = applications(topology)
    targets = []
    for a in apps:
        module, fn = a["import_path"].split(":")
        builder = getattr(import_module(module), fn)
        targets.append(serve.RunTarget(target=builder({**a["args"], "env": env}), name=a["name"],
                                       route_prefix=a["route_prefix"]))
    serve.run_many(targets, wait_for_applications_running=False)
    names = [a["name"] for a in apps]
    wait_healthy(names, on_progress=on_progress, timeout_s=timeout_s)
    relay = actors.event_relay(relay_builder(topology), env)
    ray.get(relay.start.remote())
    dash = None
    if dashboard:
        ctx = ray.get_runtime_context()
        dash = getattr(ctx, "dashboard_url", None) or f"http://127.0.0.1:{settings.dashboard_port}"
        dash = dash if dash.startswith("http") else f"http://{dash}"
    api = f"http://{settings.http_host}:{settings.http_port}"
    return Launched(api_url=api, docs_url=f"{api}/docs", dashboard_url=dash, applications=names,
                    started_cluster=started)


def wait_healthy(names: list[str], *, on_progress=None, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        status = serve.status().applications
        healthy = [n for n in names if n in status and str(status[n].status).endswith("RUNNING")]
        failed = {n: status[n].message for n in names
                  if n in status and str(status[n].status).endswith(("DEPLOY_FAILED", "UNHEALTHY"))}
        if on_progress:
            on_progress(len(healthy), len(names))
        if failed:
            raise RuntimeError(f"applications failed to deploy: {failed}")
        if len(healthy) == len(names):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not healthy after {timeout_s}s: {sorted(set(names) - set(healthy))}")
        time.sleep(0.5)


def shutdown(*, stop_cluster: bool) -> None:
    try:
        relay = ray.get_actor("p2p-event-relay", namespace="p2p")
        ray.get(relay.shutdown.remote(), timeout=10)
    except Exception:
        pass
    serve.shutdown()
    actors.kill_all()
    if stop_cluster:
        ray.shutdown()
