"""BentoML's per-request timeout timer: cancelled when the request ends (the fix), and it still times out."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")

from bentoml._internal.server.http.traffic import TimeoutMiddleware  # noqa: E402

from augment_gan.service import bentoml_fixes  # noqa: E402


async def ok_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def slow_app(scope, receive, send):
    await asyncio.sleep(5)


async def call(app, sent: list) -> None:
    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "path": "/", "method": "GET"}, receive, send)


def test_the_fix_applies_to_this_bentoml_and_once():
    assert bentoml_fixes.apply() and bentoml_fixes.apply()
    assert TimeoutMiddleware.__call__ is bentoml_fixes._timeout_call


def test_no_timer_outlives_its_request():
    bentoml_fixes.apply()
    middleware = TimeoutMiddleware(ok_app, timeout=120)

    async def many() -> int:
        sent: list = []
        for _ in range(200):
            await call(middleware, sent)
        assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200] * 200
        loop = asyncio.get_running_loop()
        return sum(1 for handle in loop._scheduled if not handle.cancelled())  # noqa: SLF001

    assert asyncio.run(many()) == 0  # unpatched: 200 live timers, each holding its request's context for 120 s


def test_a_slow_request_still_gets_504():
    bentoml_fixes.apply()
    sent: list = []
    asyncio.run(call(TimeoutMiddleware(slow_app, timeout=0.05), sent))
    assert sent[0]["status"] == 504 and "0.05 seconds" in json.loads(sent[1]["body"])["error"]


def test_a_400_is_one_warning_line_and_other_errors_keep_their_traceback():
    import logging
    import sys

    from pydantic import BaseModel, ValidationError

    class Body(BaseModel):
        count: int

    try:
        Body.model_validate({"count": "many"})
    except ValidationError:
        client = sys.exc_info()
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        bug = sys.exc_info()
    fix = bentoml_fixes.ClientErrorFilter()

    def record(exc_info) -> logging.LogRecord:
        return logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "Exception on %s [%s]", ("/generate", "POST"), exc_info
        )

    quiet, loud = record(client), record(bug)
    assert fix.filter(quiet) and fix.filter(loud)
    assert quiet.levelname == "WARNING" and quiet.exc_info is None
    assert quiet.getMessage().startswith("Exception on /generate [POST]: 400, 1 invalid field(s), first count:")
    assert loud.levelname == "ERROR" and loud.exc_info is bug
    bentoml_fixes.apply()
    assert (
        sum(
            isinstance(f, bentoml_fixes.ClientErrorFilter)
            for f in logging.getLogger(bentoml_fixes.HTTP_APP_LOGGER).filters
        )
        == 1
    )
