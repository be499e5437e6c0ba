"""A lean asyncio HTTP/1.1 client for the benchmarks' load generators.

Why it exists: the benchmarks run the server under test and the load generator on the same
2-core machine, so every millisecond of CPU the generator spends is taken from the server.
aiohttp cost about 0.35 ms of CPU per request here; this client sends prebuilt request bytes
and parses just enough of the answer (status line, framing headers, body) to cost a fraction
of that. It is an `asyncio.BufferedProtocol` (no streams, no per-request header objects, no
per-read allocation) and understands `Content-Length`, `Transfer-Encoding: chunked`, bodies
delimited by the server closing, and `Connection: close` (the next request reconnects).

    request = build_request("POST", "127.0.0.1", 8000, "/cart/add/", {...}, b"a=1")
    connection = Connection("127.0.0.1", 8000)
    status, body = await connection.request(request)   # keep-alive: call again
    connection.close()

Importable as `lean_http` (a script in bench/) and as `bench.lean_http`; standard library only.
"""

from __future__ import annotations

import asyncio
import re
import resource
from typing import cast
from urllib.parse import urlsplit

_FRAMING = re.compile(rb"\r\n(content-length|transfer-encoding|connection):[ \t]*([^\r\n]*)")
_CHUNKED = -1  # body length sentinels
_UNTIL_CLOSE = -2
_BUFFER = 16 * 1024  # initial read buffer per connection; grows for larger responses


class ServerDisconnectedError(ConnectionError):
    """The server closed the connection before the whole response arrived."""


def build_request(
    method: str, host: str, port: int, path: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    """The bytes of one HTTP/1.1 request (Host and, with a body, Content-Length added)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def host_port(base: str) -> tuple[str, int]:
    """("127.0.0.1", 8000) from "http://127.0.0.1:8000"."""
    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 80


def raise_fd_limit(wanted: int) -> None:
    """Lift the soft RLIMIT_NOFILE towards `wanted` (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class _Protocol(asyncio.BufferedProtocol):
    """One TCP connection: reads into its own buffer (`recv_into`; a plain Protocol gets a
    fresh 256 KiB bytes per read, an mmap/munmap each) and parses responses into a future.
    Unparsed bytes are `_buffer[_start:_end]`."""

    transport: asyncio.Transport  # set by connection_made, before create_connection returns

    def __init__(self) -> None:
        self.closed = False
        self._buffer = bytearray(_BUFFER)
        self._view = memoryview(self._buffer)
        self._start = self._end = 0
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0  # 0 until the head of the current response is parsed
        self._length = 0  # body bytes, or _CHUNKED / _UNTIL_CLOSE
        self._close = False
        self._chunks: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        if self._waiter is not None:
            raise RuntimeError("a request is already in flight on this connection")
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return waiter

    def get_buffer(self, sizehint: int) -> memoryview:
        if len(self._buffer) - self._end < _BUFFER // 4:
            # Move the unparsed bytes into a new buffer (twice as large if they fill half);
            # never resize in place: the transport may still hold a view of the old one.
            used = self._end - self._start
            size = len(self._buffer) * (2 if 2 * used > len(self._buffer) else 1)
            buffer = bytearray(size)
            buffer[:used] = self._view[self._start : self._end]
            self._buffer, self._view = buffer, memoryview(buffer)
            self._start, self._end = 0, used
        return self._view[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self._end += nbytes
        if self._waiter is None:
            return
        try:
            self._parse()
        except ValueError as exc:  # not HTTP, bad length or chunk size
            self._fail(exc)
            self.transport.close()

    def eof_received(self) -> None:
        self._lost(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(exc)

    def _lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None:
            return
        if self._status and self._length == _UNTIL_CLOSE:
            self._finish(self._take(self._end))
        else:
            self._fail(exc or ServerDisconnectedError("server closed the connection"))

    def _take(self, stop: int) -> bytes:
        """The unparsed bytes up to `stop`, marked as parsed."""
        data = self._view[self._start : stop].tobytes()
        self._start = stop
        return data

    def _parse(self) -> None:
        if not self._status:
            head_end = self._buffer.find(b"\r\n\r\n", self._start, self._end)
            if head_end < 0:
                return
            self._head(self._take(head_end + 2))
            self._start += 2
        if self._length >= 0:
            if self._end - self._start < self._length:
                return
            body = self._take(self._start + self._length)
        elif self._length == _CHUNKED:
            body = self._dechunk()
            if body is None:
                return
        else:
            return  # delimited by the server closing: _lost finishes it
        self._finish(body)

    def _head(self, head: bytes) -> None:
        if not head.startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP/1.x response: {head[:40]!r}")
        self._status = int(head[9:12])
        self._close = head[7:8] == b"0"  # HTTP/1.0 closes unless it says keep-alive
        self._length = _UNTIL_CLOSE
        if self._status in (204, 304):
            self._length = 0
        for name, value in _FRAMING.findall(head.lower()):
            if name == b"content-length" and self._length != _CHUNKED:
                self._length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                self._length = _CHUNKED
            elif name == b"connection":
                self._close = b"close" in value or (self._close and b"keep-alive" not in value)
        if self._length == _UNTIL_CLOSE:
            self._close = True

    def _dechunk(self) -> bytes | None:
        """Moves whole chunks from the buffer to `_chunks`; the body once the last arrived."""
        buffer, end = self._buffer, self._end
        while True:
            eol = buffer.find(b"\r\n", self._start, end)
            if eol < 0:
                return None
            size = int(bytes(buffer[self._start : eol]).split(b";", 1)[0], 16)
            if size == 0:
                stop = buffer.find(b"\r\n\r\n", eol, end)  # optional trailers, blank line
                if stop < 0:
                    return None
                self._start = stop + 4
                body = b"".join(self._chunks)
                self._chunks.clear()
                return body
            if end < eol + size + 4:
                return None
            self._start = eol + 2
            self._chunks.append(self._take(eol + 2 + size))
            self._start += 2

    def _finish(self, body: bytes) -> None:
        waiter, status = self._waiter, self._status
        self._waiter, self._status = None, 0
        if self._start == self._end:
            self._start = self._end = 0
        if self._close:
            self.closed = True
            self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_result((status, body))

    def _fail(self, exc: BaseException) -> None:
        waiter = self._waiter
        self._waiter, self._status = None, 0
        self.closed = True
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class Connection:
    """An HTTP/1.1 connection to host:port, opened on the first request and reopened after
    the server closed it. Reuse it in a loop for keep-alive; `close()` it after a one-shot.
    `timeout` (seconds) bounds each request, connecting included."""

    def __init__(self, host: str, port: int, *, timeout: float | None = None) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._protocol: _Protocol | None = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        """Send prebuilt request bytes; (status, body) of the answer. On any error the
        connection is dropped (the next request reconnects) and the error is raised."""
        if self.timeout is None:
            return await self._request(data)
        async with asyncio.timeout(self.timeout):
            return await self._request(data)

    async def _request(self, data: bytes) -> tuple[int, bytes]:
        protocol = self._protocol
        try:
            if protocol is None or protocol.closed:
                loop = asyncio.get_running_loop()
                _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
                self._protocol = protocol
            return await protocol.request(data)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the socket now (no-op if not connected)."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.closed = True
            protocol.transport.close()
