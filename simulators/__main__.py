"""`python -m simulators --host 127.0.0.1 --port 8100 [--product-url URL] [--demo]`.

Prints `simulators listening on <base_url>` on stdout once the port is open
(useful with `--port 0`), and exits 0 on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType

from .core import Config
from .server import start_simulators


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators", description="Simulated outside systems for PSCC CAD.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100, help="0 picks a free port")
    parser.add_argument("--product-url", default=None, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--tcc-secret", default=Config.tcc_secret, help="HMAC key for inbound texts")
    parser.add_argument("--cpe-token", default=Config.cpe_token, help="Bearer token between CPE and product")
    parser.add_argument("--demo", action="store_true", help="ring a random call every 45-90 s")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    simulators = start_simulators(
        host=args.host,
        port=args.port,
        product_url=args.product_url,
        tcc_secret=args.tcc_secret,
        cpe_token=args.cpe_token,
        demo=args.demo,
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"simulators listening on {simulators.base_url}", flush=True)
    # Short waits keep the main thread responsive to signals on every platform.
    while not stopping.wait(0.5):
        pass
    logging.getLogger("simulators").info("stopping")
    simulators.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
