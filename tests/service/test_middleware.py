"""The service's ASGI middleware in-process (no server): the not-loaded 503 path and error shapes."""

from __future__ import annotations

import asyncio
import json

import pytest

svc = pytest.importorskip("service.service", reason="bentoml is not installed in this environment")


async def _unreachable(scope, receive, send):  # the API must not run without a model
    raise AssertionError("reached the app")


def call(app, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_worker_without_model_answers_503_with_the_reason(monkeypatch):
    monkeypatch.setattr(svc, "_GENERATOR", None)
    monkeypatch.setattr(svc, "_LOAD_ERROR", "model /m/v1 was exported without the quality gate")
    app = svc.ServiceMiddleware(_unreachable)
    for method, path, body in (("POST", "/generate", b'{"label": "a", "count": 1}'), ("GET", "/model", b"")):
        status, payload = call(app, method, path, body)
        assert status == 503 and "without the quality gate" in payload["error"]


def test_error_message_normalises_bentoml_shapes():
    assert svc.error_message([{"error": "bad"}]) == {"error": "bad"}
    detail = [{"loc": ["items", 2, "label"], "msg": "Value error, unknown class 'x'"}, {"loc": [], "msg": "Invalid JSON"}]
    out = svc.error_message({"error": "2 validation errors", "detail": detail})
    assert out["error"] == "items[2].label: unknown class 'x'; request body: Invalid JSON" and out["detail"] == detail
    assert svc.error_message("Not Found") == {"error": "Not Found"}
