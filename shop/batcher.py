"""Cart adds in batches behind the view: one transaction for the adds that arrive together.

In a flash sale hundreds of shoppers add the same item each second. One transaction per add
means one lock of the hot variant row and one commit each; `services.cart_add_batch` runs many
adds in ONE transaction (group commit). The view (`shop.views.cart_add`) stays Django's
ordinary door — CSRF, session, login, the buy gate and the rate limit are all done by Django's
own middleware and decorators before it runs — and only hands the checked add to this
process's batcher, then waits for its outcome:

- one worker thread per process takes whatever was submitted while it ran the previous batch
  (up to MAX_BATCH) as its next batch: no wait is added when the server is idle;
- the batch goes to `cart_add_batch` (one transaction, results in submission order);
- each waiting request thread gets its own result back (its line, its ShopError, or the
  exception that rolled its add back, which the view raises: Django answers 500).

A request already inside a transaction (ATOMIC_REQUESTS, tests) adds inline: its add must be
part of that transaction, which another thread's connection cannot see. With a connection pool
(the ASGI process) a waiting request gives its connection back first.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    close_old_connections,
    connection,
    connections,
)
from prometheus_client import Histogram

from shop import services

MAX_BATCH = 256
HEALTH_CHECK_EVERY = 1.0  # seconds between the thread's connection checks (see `_run`)

BATCH_SIZE = Histogram(
    "dorami_cart_add_batch_size",
    "Cart adds per transaction (the per-process batcher)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)

_STOP = object()


class AddBatcher:
    """One worker thread running `run_batch` (a list of AddRequest → a list of results, in
    order, one transaction) over whatever was submitted while it ran the previous batch."""

    def __init__(
        self,
        run_batch: Callable[[Sequence[services.AddRequest]], list] | None = None,
        *,
        max_batch: int = MAX_BATCH,
    ):
        self._run_batch = run_batch or _cart_add_batch
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # transactions run (metrics and tests)
        self.adds = 0

    def submit(self, add: services.AddRequest) -> Future:
        future: Future = Future()
        self._queue.put((add, future))
        self._thread_ensure()
        return future

    def close(self) -> None:
        """Stop the thread after what is queued (it closes its database connection)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _thread_ensure(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # (or it died)
                self._thread = threading.Thread(target=self._run, name="cart-adds", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        checked_at = 0.0
        while True:
            first = self._queue.get()
            if first is _STOP:
                connections.close_all()
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:  # close(): finish this batch first
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            # What Django does around each request (drop broken or expired connections; with
            # CONN_HEALTH_CHECKS the next query pings first), at most once a second: a batch
            # every few milliseconds would otherwise pay a `SELECT 1` each.
            now = time.monotonic()
            if checked_at + HEALTH_CHECK_EVERY <= now:
                checked_at = now
                close_old_connections()
            try:
                results = self._run_batch([add for add, _future in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for {len(batch)} adds")
            except Exception as error:  # nothing committed: each request raises it (500, logged)
                if isinstance(error, DatabaseError):
                    checked_at = 0.0
                for _add, future in batch:
                    future.set_exception(error)
                continue
            for (_add, future), result in zip(batch, results, strict=True):
                if isinstance(result, Exception) and not isinstance(result, services.ShopError):
                    checked_at = 0.0  # its transaction rolled back: check before the next
                future.set_result(result)
            self.batches += 1
            self.adds += len(batch)
            with contextlib.suppress(Exception):  # metrics never cost an answer
                BATCH_SIZE.observe(len(batch))


def _cart_add_batch(adds: Sequence[services.AddRequest]) -> list:
    return services.cart_add_batch(requests=adds)


_batcher = AddBatcher()


def batcher() -> AddBatcher:
    """This process's batcher."""
    return _batcher


def _pooled() -> bool:
    return bool(settings.DATABASES[DEFAULT_DB_ALIAS].get("OPTIONS", {}).get("pool"))


def cart_add(*, user, variant_id, quantity):
    """The add's line, or its ShopError (returned, not raised), through this process's
    batcher; inline when the caller is inside a transaction or batching is off. Any other
    error is raised (the add was rolled back)."""
    if connection.in_atomic_block or not settings.CART_ADD_BATCHING:
        try:
            return services.cart_add(user=user, variant_id=variant_id, quantity=quantity)
        except services.ShopError as error:
            return error
    if _pooled():
        # The request's pooled connection goes back to the pool while it waits: the batch
        # thread needs one, and with every connection held by a waiting request it would
        # wait for ever (the ASGI process runs with a small pool per process).
        connection.close()
    result = _batcher.submit(services.AddRequest(user, variant_id, quantity)).result()
    if isinstance(result, Exception) and not isinstance(result, services.ShopError):
        raise result
    return result
