"""Every benchmark in turn: `python -m bench` (what `make bench` runs on the embedded services).

    python -m bench              migrate, fan-out (50, 200, 500 consoles), memory (500 consoles, 10 min),
                                 compliance queries on a year of calls, call intake (concurrency 16, 30 s),
                                 burst (200 calls + 50 texts in 10 s, 20 consoles), history (a decade)
    python -m bench --quick      the same with small sizes (a minute or two), to check a set-up
    python -m bench --only fanout

Each benchmark's own options: `python -m bench.<name> --help` (fanout, memory, compliance, intake, burst,
history).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench.common import ROOT

BENCHMARKS = ("fanout", "memory", "compliance", "intake", "burst", "history")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    p.add_argument("--quick", action="store_true", help="small sizes: checks the set-up, measures little")
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    chosen = [name.strip() for name in a.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        p.error(f"unknown benchmarks {sorted(unknown)}")

    # The benchmarks measure a migrated database of their own choosing (DATABASE_URL).
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)

    from bench import burst, compliance, fanout, history, intake, memory

    if "fanout" in chosen:
        fanout.main(["--clients", "10,50", "--duration", "3", "--rates", "10,50,200", "--rate-clients", "50"]
                    if a.quick else [])
    if "memory" in chosen:
        memory.main(["--clients", "50", "--minutes", "1", "--sample-seconds", "2"] if a.quick else [])
    if "compliance" in chosen:
        compliance.main(["--calls", "5000", "--incidents", "2000", "--runs", "5"] if a.quick else [])
    if "intake" in chosen:
        intake.main(["--seconds", "5", "--warmup-seconds", "1", "--service-calls", "20"] if a.quick else [])
    if "burst" in chosen:
        burst.main(["--calls", "50", "--texts", "10", "--window", "3", "--consoles", "5"] if a.quick else [])
    if "history" in chosen:
        history.main(["--scale", "0.01", "--runs", "20"] if a.quick else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
