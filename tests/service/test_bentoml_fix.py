"""BentoML's per-request timeout timer: cancelled when the request ends (the fix), and it still times out."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")

from bentoml._internal.server.http.traffic import TimeoutMiddleware  # noqa: E402

from augment_gan.service import bentoml_fix  # noqa: E402


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
    assert bentoml_fix.apply() and bentoml_fix.apply()
    assert TimeoutMiddleware.__call__ is bentoml_fix._timeout_call


def test_no_timer_outlives_its_request():
    bentoml_fix.apply()
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
    bentoml_fix.apply()
    sent: list = []
    asyncio.run(call(TimeoutMiddleware(slow_app, timeout=0.05), sent))
    assert sent[0]["status"] == 504 and "0.05 seconds" in json.loads(sent[1]["body"])["error"]
