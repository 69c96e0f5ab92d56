"""The `p2p` command: up, openapi, serve-config, api-table, events, db upgrade."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any


def cmd_up(args) -> int:
    # Each command imports only what it needs: Ray and the services are slow to import.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from p2p.launch import launch, shutdown
    from p2p.settings import get_settings

    console = Console(stderr=True)
    settings = get_settings()
    if args.port:
        settings = settings.model_copy(update={"http_port": args.port})
    topology = args.topology or settings.topology
    console.print(f"[bold]P2P Delivery Platform[/] - topology [cyan]{topology}[/], database "
                  f"[cyan]{settings.database_url or 'embedded SQLite'}[/], KV [cyan]"
                  f"{'Redis' if settings.redis_url else 'Ray actor'}[/]")
    with Progress(TextColumn("applications healthy"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("deploy", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        launched = launch(settings, topology=topology, on_progress=on_progress, num_cpus=args.num_cpus)
    console.print(f"API        {launched.api_url}")
    console.print(f"Docs       {launched.docs_url}")
    console.print(f"Dashboard  {launched.dashboard_url or '(disabled)'}")
    console.print("Ctrl-C stops the platform.")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    console.print("Shutting down...")
    shutdown(stop_cluster=launched.started_cluster)
    return 0


def cmd_openapi(args) -> int:
    # Each command imports only what it needs: Ray and the services are slow to import.
    from deployments.edge import combined_openapi

    json.dump(combined_openapi(), sys.stdout, indent=2 if args.pretty else None)
    sys.stdout.write("\n")
    return 0


def cmd_serve_config(args) -> int:
    # Each command imports only what it needs: Ray and the services are slow to import.
    from deployments.serve import serve_config
    from p2p.serve_config import dump

    sys.stdout.write(dump(serve_config(args.topology)))
    return 0


def api_table() -> str:
    """The README's API table, from the registry (a test keeps the README equal to it)."""
    # The registry imports every service: only when this command runs.
    from deployments.registry import SPECS

    rows = ["| Service | Route prefix | Operations | Docs |", "|---|---|---|---|"]
    for s in SPECS:
        tag = s.title.replace(" ", "%20")
        rows.append(f"| {s.title} | `{s.prefix}` | {len(s.ops)} | `/docs#/{tag}` |")
    return "\n".join(rows) + "\n"


def event_catalogue() -> list[dict]:
    """Every event class any service emits or handles: its topic, emitters and subscribers."""
    # The registry imports every service: only when this command runs.
    from deployments.registry import SPECS

    rows: dict[type, dict] = {}
    def row(cls: Any) -> dict:
        return rows.setdefault(cls, {"event": cls.__name__, "topic": cls.topic, "module": cls.__module__,
                                     "emitters": [], "subscribers": []})

    for spec in SPECS:
        for cls in spec.emits:
            row(cls)["emitters"].append(spec.key)
        for _method, handled in spec.handlers.values():
            if handled is not None:
                row(handled)["subscribers"].append(spec.key)
    return sorted(rows.values(), key=lambda r: r["topic"])


def cmd_events(args) -> int:
    rows = event_catalogue()
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    width = max(len(r["topic"]) for r in rows)
    for r in rows:
        print(f"{r['topic']:<{width}}  {r['event']:<24} by {','.join(r['emitters']) or '-':<10} "
              f"-> {', '.join(r['subscribers']) or '-'}")
    return 0


def cmd_api_table(args) -> int:
    sys.stdout.write(api_table())
    return 0


def cmd_db(args) -> int:
    # Each command imports only what it needs: Ray and the services are slow to import.
    from p2p.settings import get_settings
    from storage.migrate import upgrade

    settings = get_settings()
    settings.ensure_data_dir()
    url = settings.effective_database_url
    upgrade(url)
    print(f"database at head: {url.split('@')[-1]}")
    return 0


def cmd_db_revision(args) -> int:
    # Alembic and the models load only for this command.
    from storage.migrate import NothingToMigrate, revision

    try:
        path = revision(args.service, args.change)
    except NothingToMigrate as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"wrote {path}; read it, then commit it with the change")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="p2p", description="P2P delivery platform on Ray")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the platform on local Ray and stay in the foreground")
    up.add_argument("--topology", choices=["full", "compact"], default=None)
    up.add_argument("--port", type=int, default=None)
    up.add_argument("--num-cpus", type=int, default=None, help="CPUs for a local cluster started here")
    up.set_defaults(fn=cmd_up)
    oa = sub.add_parser("openapi", help="print the combined OpenAPI document (no Ray needed)")
    oa.add_argument("--pretty", action="store_true")
    oa.set_defaults(fn=cmd_openapi)
    sc = sub.add_parser("serve-config", help="print serve_config.yaml generated from the registry")
    sc.add_argument("--topology", choices=["full", "compact"], default="full")
    sc.set_defaults(fn=cmd_serve_config)
    sub.add_parser("api-table", help="print the README's API table").set_defaults(fn=cmd_api_table)
    ev = sub.add_parser("events", help="list every domain event: topic, class, emitters, subscribers")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(fn=cmd_events)
    db = sub.add_parser("db", help="database commands")
    dbs = db.add_subparsers(dest="dbcmd", required=True)
    dbs.add_parser("upgrade", help="apply migrations up to head").set_defaults(fn=cmd_db)
    rev = dbs.add_parser("revision", help="autogenerate the next migration from the models")
    rev.add_argument("service", help="the service whose tables changed (its registry key)")
    rev.add_argument("change", help='what changed, e.g. "add reviews"')
    rev.set_defaults(fn=cmd_db_revision)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
