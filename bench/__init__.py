"""Benchmarks of the whole path, each side by side with the machine's own limit in the same run.

    python -m bench                      migrate, then every benchmark in turn (`make bench`)
    python -m bench.fanout --help        commit -> every console, against a raw WebSocket server
    python -m bench.memory --help        server memory with many consoles under a steady rate
    python -m bench.compliance --help    the supervisor board's compliance queries on a year of calls
    python -m bench.intake --help        POST /api/v1/calls/ at concurrency 16 against a trivial view
    python -m bench.burst --help         200 calls + 50 texts within 10 s, on every console, none lost
    python -m bench.history --help       a generated decade: searches, board, reports; EXPLAIN

Each prints a table and writes JSON to `bench/results/<name>-<timestamp>.json`. They run on
`DATABASE_URL` / `REDIS_URL` (a migrated database: `python -m bench` migrates it first) or, through
`make bench`, on the embedded services. All traffic stays on 127.0.0.1 and every process a
benchmark starts is stopped when it ends. See docs/performance.md for the figures.
"""
