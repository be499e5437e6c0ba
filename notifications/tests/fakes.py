"""Local fake HTTP servers (a push service, an Alimtalk provider) for the channel tests.

Each runs `http.server` on a free port in a thread, records every request and answers with
the next scripted response: a status code, or ``"timeout"`` (sleeps longer than the client
waits, then answers 200)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes
    peer: tuple = ()  # the client's (host, port): one port for many requests = one connection

    def json(self):
        return json.loads(self.body)


@dataclass
class FakeServer:
    default: int | str = 201
    responses: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    timeout_sleep: float = 1.5
    keep_alive: bool = False  # HTTP/1.1 persistent connections, as real push services keep

    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if fake.keep_alive else "HTTP/1.0"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                fake.requests.append(
                    Recorded(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        tuple(self.client_address),
                    )
                )
                answer = fake.responses.pop(0) if fake.responses else fake.default
                if answer == "timeout":
                    time.sleep(fake.timeout_sleep)
                    answer = 200
                payload = json.dumps({"message_id": f"m-{len(fake.requests)}"}).encode()
                try:
                    self.send_response(answer)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
