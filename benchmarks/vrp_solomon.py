"""Solomon VRPTW: gap to the best-known solutions, portfolio on Ray vs one OR-Tools run.

    python3 benchmarks/vrp_solomon.py --time-limit 10

For each instance, both arms get the same wall-clock budget T (`--time-limit`):
- single: one OR-Tools run (PARALLEL_CHEAPEST_INSERTION + GUIDED_LOCAL_SEARCH) for T;
- portfolio: the configurations of `routing.vrp.PORTFOLIO` as Ray tasks on the machine's
  CPUs, each limited to T * cpus / len(configs) so the whole portfolio also takes about T.
Objective: vehicles first, then distance (Euclidean, unrounded); the gap is against
bks.tsv on both. Every solution is checked for feasibility before it is reported.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: the repo's routing/
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # loopback-only local Ray
from routing.solomon import read_bks, read_solomon, to_problem  # noqa: E402
from routing.vrp import DEFAULT_CONFIG, PORTFOLIO, portfolio_solve, solve, violations  # noqa: E402

FOLDER = Path(os.environ.get("P2P_SOLOMON_DIR", Path(__file__).resolve().parent / "data/solomon"))


def fmt(name: str, sol, bks: tuple[int, float], wall: float) -> str:
    v, d = bks
    gap = 100 * (sol.distance - d) / d
    return (f"{name:<10} vehicles {sol.vehicles_used:>3} ({sol.vehicles_used - v:+d})  distance {sol.distance:9.2f}"
            f" (gap {gap:+6.2f}%)  unserved {len(sol.unserved)}  wall {wall:5.1f} s  [{sol.config.label}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=10.0, help="wall-clock seconds per instance and arm")
    ap.add_argument("--instances", default="C101,C201,R101,R201,RC101,RC201")
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--folder", type=Path, default=FOLDER)
    args = ap.parse_args()

    import ray

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    bks = read_bks(args.folder / "bks.tsv")
    per_config = args.time_limit * args.cpus / len(PORTFOLIO)
    print(f"time limit {args.time_limit:.0f} s per instance and arm; portfolio: {len(PORTFOLIO)} configs x"
          f" {per_config:.1f} s on {args.cpus} CPUs")
    portfolio_solve(to_problem(read_solomon(args.folder / "C101.txt")), 0.1, PORTFOLIO)  # start the workers
    totals = {"single": [0, 0.0], "portfolio": [0, 0.0]}
    for name in args.instances.split(","):
        problem = to_problem(read_solomon(args.folder / f"{name}.txt"))
        single = solve(problem, args.time_limit, DEFAULT_CONFIG)
        result = portfolio_solve(problem, per_config, PORTFOLIO, use_ray=True)
        for sol in (single, *result.runs):
            assert violations(problem, sol) == [], (name, sol.config, violations(problem, sol)[:3])
        print(f"{name} (BKS {bks[name][0]} vehicles, {bks[name][1]:.2f})")
        print("  " + fmt("single", single, bks[name], single.wall_s))
        print("  " + fmt("portfolio", result.best, bks[name], result.wall_s))
        for run in result.runs:
            print(f"      {run.config.label:<50} {run.vehicles_used:>3} vehicles {run.distance:9.2f}"
                  f" unserved {len(run.unserved)} ({run.status})")
        for arm, sol in (("single", single), ("portfolio", result.best)):
            totals[arm][0] += sol.vehicles_used - bks[name][0]
            totals[arm][1] += 100 * (sol.distance - bks[name][1]) / bks[name][1]
    n = len(args.instances.split(","))
    for arm, (dv, gap) in totals.items():
        print(f"{arm:<10} total extra vehicles {dv:+d}, mean distance gap {gap / n:+.2f}%")
    ray.shutdown()


if __name__ == "__main__":
    main()
