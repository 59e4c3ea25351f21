"""Two fixes for BentoML 1.4.39: a per-request timer that held memory, and a traceback logged for every 400.

**The timer.**
BentoML's ``TimeoutMiddleware`` (``bentoml/_internal/server/http/traffic.py``) schedules
``loop.call_later(timeout, ...)`` for every request and never cancels it. The timer handle
keeps the request's ``contextvars`` context alive, and with it the request's OpenTelemetry
span, until the timeout passes (``traffic.timeout``: 120 s here): about 5 KiB per request,
so a worker at 190 requests/s grows by ~110 MiB before it levels off. Measured with
``benchmarks/soak.py`` (the worker's RSS) and located with tracemalloc (the retained objects
are spans, referenced from ``TimerHandle`` contexts).

:func:`apply` replaces ``TimeoutMiddleware.__call__`` with the same logic plus
``handle.cancel()`` once the request is done. It patches only the implementation it was
written against (the source is checked), so a BentoML that changed it is left alone.

**The tracebacks.** BentoML logs every request that fails validation at ERROR with the full
pydantic traceback (about 30 lines), so a client sending bad requests fills the log with
stack traces of no bug. :class:`ClientErrorFilter` turns those records into one WARNING
line naming the request and the first problem; errors that are not the client's keep their
traceback.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from bentoml._internal.server.http import traffic

_EXPECTED = "loop.call_later(self.timeout, self._set_timer_out, waiter)"


async def _timeout_call(self: Any, scope: Any, receive: Any, send: Any) -> None:
    """``TimeoutMiddleware.__call__`` of BentoML 1.4.39, cancelling its timer when the request ends."""
    if scope["type"] not in ("http", "websocket"):
        return await self.app(scope, receive, send)
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    timer = loop.call_later(self.timeout, self._set_timer_out, waiter)

    async def _send(message: Any) -> None:
        if not waiter.done():
            waiter.set_result(None)
        await send(message)

    fut = asyncio.ensure_future(self.app(scope, receive, _send), loop=loop)
    try:
        try:
            await waiter
        except TimeoutError:
            if fut.cancel():
                resp = traffic.JSONResponse(
                    {"error": f"Not able to process the request in {self.timeout} seconds"}, status_code=504
                )
                await resp(scope, receive, send)
        else:
            await fut
    finally:
        timer.cancel()


_timeout_call.augment_gan_fix = True  # type: ignore[attr-defined]


class ClientErrorFilter(logging.Filter):
    """A request that failed validation (a 400): one WARNING line instead of an ERROR with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pydantic import ValidationError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ValidationError):
            first = exc.errors(include_url=False)[0] if exc.error_count() else {}
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            record.msg = f"{record.getMessage()}: 400, {exc.error_count()} invalid field(s), first {where}: {first.get('msg', '')}"
            record.args, record.exc_info, record.exc_text = (), None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


HTTP_APP_LOGGER = "bentoml._internal.server.http_app"


def apply() -> bool:
    """Both fixes (idempotent); True if the timer fix is in place."""
    log = logging.getLogger(HTTP_APP_LOGGER)
    if not any(isinstance(f, ClientErrorFilter) for f in log.filters):
        log.addFilter(ClientErrorFilter())
    return fix_timeout_timer()


def fix_timeout_timer() -> bool:
    """Patch ``TimeoutMiddleware`` if it is the version with the leak; True if the fix is in place."""
    current = traffic.TimeoutMiddleware.__call__
    if getattr(current, "augment_gan_fix", False):
        return True
    if _EXPECTED not in inspect.getsource(current) or "cancel()" in inspect.getsource(current).replace(
        "fut.cancel()", ""
    ):
        return False  # not the implementation this fixes
    traffic.TimeoutMiddleware.__call__ = _timeout_call  # type: ignore[method-assign]
    return True
