"""One HTTP server for all five simulated systems plus the control API.

Routing: `/<service>/...` goes to that service (logged, and subject to the
scripted behaviour of that service); `/_control/...` is the control API
(never logged, never misbehaves).

Start it with `python -m simulators` or, in tests, `start_simulators(port=0)`.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .core import (
    BEHAVIOUR_MODES,
    DEFAULT_DELAYS,
    SERVICES,
    Behaviour,
    Config,
    Handler,
    HttpError,
    Request,
    Response,
    Route,
    Router,
    Service,
    SimState,
    optional_int,
    optional_number,
    optional_str,
    require_choice,
)
from .cpe import CpeData, CpeService, DemoRinger
from .location import LocationData, LocationService
from .tcc import TccData, TccService
from .telephony import TelephonyData, TelephonyService
from .wsp import WspData, WspService

logger = logging.getLogger("simulators")

#: Request bodies above this size are refused (413); nothing legitimate comes close.
MAX_BODY_BYTES = 1_000_000

SIMULATED_FAILURE = {"error": "simulated failure"}


class SimulatorApp:
    """Dispatches parsed requests; independent of the HTTP transport."""

    def __init__(self, config: Config) -> None:
        self.state = SimState(config, [TelephonyData, WspData, LocationData, CpeData, TccData])
        self.cpe = CpeService(self.state)
        self.services: list[Service] = [
            TelephonyService(self.state),
            WspService(self.state),
            LocationService(self.state),
            self.cpe,
            TccService(self.state),
        ]
        self.router = Router(self._routes())

    def _routes(self) -> Iterable[Route]:
        for service in self.services:
            for route in service.routes():
                yield Route(route.method, route.pattern, self._misbehaving(service.name, route))
            yield from service.control_routes()
        yield Route("POST", "/_control/reset", self.reset)
        yield Route("POST", "/_control/behaviour", self.set_behaviour)
        yield Route("GET", "/_control/behaviour", self.get_behaviours)
        yield Route("GET", "/_control/requests", self.get_requests)
        yield Route("GET", "/_control/outbound", self.get_outbound)
        yield Route("GET", "/_control/healthz", lambda request: Response(200, {"ok": True}))
        yield Route("GET", "/_control/config", self.get_config)
        yield Route("POST", "/_control/config", self.set_config)

    def dispatch(self, request: Request) -> Response:
        """Answer one request; every failure becomes a JSON error response."""
        try:
            handler, params = self.router.resolve(request.method, request.path)
        except HttpError as exc:
            self._log_unrouted(request, exc.status)
            return exc.to_response()
        try:
            return handler(request.with_params(params))
        except HttpError as exc:
            return exc.to_response()
        except Exception:  # a simulator bug must still answer, and loudly
            logger.exception("unhandled error for %s %s", request.method, request.path)
            return Response(500, {"error": "simulator internal error"})

    def _log_unrouted(self, request: Request, status: int) -> None:
        """Log a 404/405 under a service prefix too: a product adapter calling a
        wrong path or method should be visible in `/_control/requests`."""
        service = request.path.strip("/").split("/", 1)[0]
        if service in SERVICES:
            self.state.finish_request(self.state.log_request(service, request, "ok"), status)

    # -- behaviours ---------------------------------------------------------

    def _misbehaving(self, service: str, route: Route) -> Handler:
        """Wrap a service handler with request logging and the scripted behaviour.

        * slow: sleep, then handle normally;
        * error: answer 503 without handling (nothing happens);
        * timeout: handle (the effect happens, like a real lost response),
          then hold the answer back for `delay` seconds.
        """

        def handle(request: Request) -> Response:
            behaviour = self.state.take_behaviour(service)
            mode = behaviour.mode if behaviour else "ok"
            entry = self.state.log_request(service, request, mode)
            if behaviour is not None and mode == "slow":
                self.state.sleep(behaviour.delay)
            if mode == "error":
                response = Response(503, dict(SIMULATED_FAILURE))
            else:
                try:
                    response = route.handler(request)
                except HttpError as exc:
                    response = exc.to_response()
                except Exception:
                    self.state.finish_request(entry, 500)
                    raise  # dispatch() logs it and answers 500
            if behaviour is not None and mode == "timeout":
                self.state.sleep(behaviour.delay)
            self.state.finish_request(entry, response.status)
            return response

        return handle

    def set_behaviour(self, request: Request) -> Response:
        """`POST /_control/behaviour`: script the next `count` requests of a service."""
        body = request.json_object()
        service = require_choice(body, "service", SERVICES)
        mode = require_choice(body, "mode", BEHAVIOUR_MODES)
        delay = optional_number(body, "delay", DEFAULT_DELAYS.get(mode, 0.0), maximum=600.0)
        count = optional_int(body, "count", None, minimum=1)
        behaviour = None if mode == "ok" else Behaviour(mode, delay or 0.0, count)
        self.state.set_behaviour(service, behaviour)
        return Response(200, {"service": service, **(behaviour or Behaviour("ok", 0.0, None)).as_json()})

    def get_behaviours(self, request: Request) -> Response:
        return Response(200, {"behaviours": self.state.behaviours()})

    # -- control ------------------------------------------------------------

    def reset(self, request: Request) -> Response:
        self.state.reset()
        return Response(200, {"reset": True})

    def _service_filter(self, request: Request) -> str | None:
        service = request.query.get("service")
        if service is not None and service not in SERVICES:
            raise HttpError(400, f"service must be one of: {', '.join(SERVICES)}", "service")
        return service

    def get_requests(self, request: Request) -> Response:
        """`GET /_control/requests[?service=...]`: requests received, oldest first."""
        return Response(200, {"requests": self.state.requests(self._service_filter(request))})

    def get_outbound(self, request: Request) -> Response:
        """`GET /_control/outbound[?service=cpe|tcc]`: calls made to the product."""
        return Response(200, {"outbound": self.state.outbound(self._service_filter(request))})

    def get_config(self, request: Request) -> Response:
        config = self.state.config  # secrets stay out of the answer
        return Response(200, {"product_url": config.product_url, "outbound_timeout": config.outbound_timeout})

    def set_config(self, request: Request) -> Response:
        """`POST /_control/config`: change product_url / secrets / outbound_timeout until reset."""
        body = request.json_object()
        with self.state.lock:
            config = self.state.config
            if "product_url" in body:
                config.product_url = optional_str(body, "product_url", max_length=500)
            config.tcc_secret = optional_str(body, "tcc_secret", config.tcc_secret) or config.tcc_secret
            config.cpe_token = optional_str(body, "cpe_token", config.cpe_token) or config.cpe_token
            config.outbound_timeout = optional_number(
                body, "outbound_timeout", config.outbound_timeout, minimum=0.01, maximum=120.0
            ) or config.outbound_timeout
        return self.get_config(request)


# --------------------------------------------------------------------------
# HTTP transport
# --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real clients and gateways use
    server_version = "PSCC-Simulators/1.0"
    timeout = 60  # idle keep-alive connections are closed after a minute
    # Headers and body are separate writes; with Nagle on, keep-alive clients
    # would see ~40 ms delayed-ACK stalls per request (bad for benchmarks).
    disable_nagle_algorithm = True
    server: _SimHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(Response(400, {"error": "invalid Content-Length", "field": "Content-Length"}))
            return
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would poison the connection
            self._send(Response(413, {"error": "body too large"}))
            return
        body = self.rfile.read(length) if length > 0 else b""
        request = Request.build(self.command, self.path, self.headers.items(), body)
        self._send(self.server.app.dispatch(request))

    def _send(self, response: Response) -> None:
        payload = response.encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. a simulated timeout outlasted it): expected.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


class _SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Do not wait for handler threads on close: one may be sleeping in a simulated timeout.
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: SimulatorApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Cut open keep-alive connections so nothing is served after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class RunningSimulators:
    """A started simulator server. `stop()` is idempotent; also a context manager."""

    def __init__(self, server: _SimHTTPServer, demo: DemoRinger | None) -> None:
        self._server = server
        self._demo = demo
        self._stopped = False
        self.app = server.app
        self.host, self.port = server.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        # A short poll interval makes stop() quick (shutdown waits for one poll).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-http", daemon=True
        )
        self._thread.start()
        if demo is not None:
            demo.start()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._demo is not None:
            self._demo.stop()
        self.app.state.stop()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSimulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_simulators(
    host: str = "127.0.0.1",
    port: int = 0,
    product_url: str | None = None,
    tcc_secret: str = Config.tcc_secret,
    cpe_token: str = Config.cpe_token,
    *,
    demo: bool = False,
    demo_interval: tuple[float, float] = (45.0, 90.0),
    demo_first_delay: float = 10.0,
) -> RunningSimulators:
    """Serve all simulators from a daemon thread; `port=0` picks a free port.

    Returns once the socket is listening, so `base_url` is usable immediately.
    """
    config = Config(product_url=product_url, tcc_secret=tcc_secret, cpe_token=cpe_token)
    app = SimulatorApp(config)
    server = _SimHTTPServer((host, port), app)
    ringer = DemoRinger(app.cpe, demo_interval, demo_first_delay) if demo else None
    return RunningSimulators(server, ringer)
