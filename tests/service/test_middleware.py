"""The service's ASGI middleware in-process (no server): 503 without a model, body limit, error shapes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from augment_gan.runtime.generator import OnnxGenerator
from tests.export.helpers import CLASSES
from tests.service.conftest import REJECTED

pytest.importorskip("bentoml", reason="bentoml is not installed in this environment")

from augment_gan.service.auth import ApiToken  # noqa: E402
from augment_gan.service.middleware import ServiceMiddleware, error_message  # noqa: E402
from augment_gan.service.schemas import MAX_BODY_BYTES  # noqa: E402
from augment_gan.service.state import ModelState  # noqa: E402


async def _unreachable(scope, receive, send):  # the API must not run without a model
    raise AssertionError("reached the app")


class Recorder:
    """An inner app that records what it was given and answers ``status`` with ``body``."""

    def __init__(
        self, status: int = 200, body: bytes = b'{"ok": true}', content_type: bytes = b"application/json"
    ) -> None:
        self.status, self.body, self.content_type = status, body, content_type
        self.scope: dict | None = None
        self.received = b""

    async def __call__(self, scope, receive, send):
        self.scope = scope
        more = True
        while more:
            message = await receive()
            self.received += message.get("body", b"")
            more = message.get("more_body", False)
        await send(
            {"type": "http.response.start", "status": self.status, "headers": [(b"content-type", self.content_type)]}
        )
        await send({"type": "http.response.body", "body": self.body})


def call(
    app, method: str, path: str, chunks: list[bytes] = (b"",), headers: list | None = None
) -> tuple[int, dict, dict]:
    sent: list[dict] = []
    queue = [{"type": "http.request", "body": c, "more_body": k < len(chunks) - 1} for k, c in enumerate(chunks)]

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    if headers is None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(sum(map(len, chunks))).encode())]
    asyncio.run(app({"type": "http", "method": method, "path": path, "headers": headers}, receive, send))
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return sent[0]["status"], json.loads(body), dict(sent[0]["headers"])


@pytest.fixture(scope="module")
def loaded(gated_model: Path) -> ModelState:
    return ModelState(generator=OnnxGenerator.load(gated_model, providers=["CPUExecutionProvider"]))


def test_worker_without_model_answers_503_with_the_reason():
    app = ServiceMiddleware(
        _unreachable, state=lambda: ModelState(error="model /m/v1 was exported without the quality gate")
    )
    for method, path, body in (("POST", "/generate", b'{"label": "a", "count": 1}'), ("GET", "/model", b"")):
        status, payload, _ = call(app, method, path, [body])
        assert (
            status == 503
            and payload["error"] == "the service cannot serve: model /m/v1 was exported without the quality gate"
        )


def test_outside_a_worker_the_model_is_not_loaded_yet():
    status, payload, _ = call(ServiceMiddleware(_unreachable), "POST", "/generate", [b"{}"])  # the default state lookup
    assert status == 503 and "not loaded yet" in payload["error"] and "/readyz" in payload["error"]


def test_get_model_describes_the_loaded_model(loaded: ModelState):
    status, info, _ = call(ServiceMiddleware(_unreachable, state=lambda: loaded), "GET", "/model/")
    assert status == 200 and info["classes"] == CLASSES and info["providers"] == ["CPUExecutionProvider"]
    assert info["gate"]["per_class"][REJECTED]["passed"] is False
    status, payload, headers = call(ServiceMiddleware(_unreachable, state=lambda: loaded), "POST", "/model")
    assert status == 405 and payload == {"error": "use GET /model."} and headers[b"allow"] == b"GET, HEAD"


def test_the_openapi_document_is_the_services_own(loaded: ModelState):
    status, doc, _ = call(ServiceMiddleware(_unreachable, state=lambda: loaded), "GET", "/docs.json")
    assert status == 200 and doc["openapi"] == "3.1.0" and "/model" in doc["paths"]
    status, payload, _ = call(
        ServiceMiddleware(_unreachable, state=lambda: ModelState(error="no model")), "GET", "/docs.json"
    )
    assert status == 503 and "no model" in payload["error"]


def test_a_token_guards_generation_and_the_model_before_anything_else(loaded: ModelState):
    app = ServiceMiddleware(_unreachable, state=lambda: loaded, auth=ApiToken("t0k"))
    for method, path in (("POST", "/generate"), ("GET", "/model"), ("POST", "/model")):
        status, payload, headers = call(app, method, path, [b'{"label": "cat", "count": 1}'])
        assert status == 401 and "API token" in payload["error"] and headers[b"www-authenticate"].startswith(b"Bearer")
    with_token = [(b"content-type", b"application/json"), (b"authorization", b"Bearer t0k")]
    status, info, _ = call(app, "GET", "/model", headers=with_token)
    assert status == 200 and info["classes"] == CLASSES


def test_bodies_over_the_limit_are_413_before_the_app(loaded: ModelState):
    app = ServiceMiddleware(_unreachable, max_body=100, state=lambda: loaded)
    status, payload, _ = call(app, "POST", "/generate", [b"x" * 101])  # by Content-Length
    assert status == 413 and "over 100 bytes" in payload["error"]
    chunked = [(b"content-type", b"application/json")]  # no Content-Length: counted while read
    status, payload, _ = call(app, "POST", "/generate", [b"x" * 60, b"x" * 60], headers=chunked)
    assert status == 413 and "over 100 bytes" in payload["error"]
    assert ServiceMiddleware(_unreachable).max_body == MAX_BODY_BYTES


def test_the_app_gets_the_whole_body_as_json(loaded: ModelState):
    inner = Recorder()
    app = ServiceMiddleware(inner, state=lambda: loaded)
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, payload, _ = call(app, "POST", "/generate", [b'{"label": ', b'"cat"}'], headers=form)
    assert status == 200 and payload == {"ok": True}
    assert inner.received == b'{"label": "cat"}'
    assert [v for k, v in inner.scope["headers"] if k == b"content-type"] == [b"application/json"]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, b'{"error": "2 validation errors", "detail": [{"loc": ["count"], "msg": "too big"}]}', "count: too big"),
        (404, b"Not Found", "Not Found"),
        (405, b'{"detail": "Method Not Allowed"}', '{"detail": "Method Not Allowed"}'),
    ],
)
def test_every_4xx_from_the_app_becomes_one_error_shape(loaded: ModelState, status, body, expected):
    app = ServiceMiddleware(Recorder(status, body, b"text/plain"), state=lambda: loaded)
    got, payload, headers = call(app, "GET", "/anything")
    assert got == status and payload["error"] == expected
    assert headers[b"content-type"] == b"application/json" and int(headers[b"content-length"]) > 0


def test_error_message_normalises_bentoml_shapes():
    assert error_message([{"error": "bad"}]) == {"error": "bad"}
    detail = [
        {"loc": ["items", 2, "label"], "msg": "Value error, unknown class 'x'"},
        {"loc": [], "msg": "Invalid JSON"},
    ]
    out = error_message({"error": "2 validation errors", "detail": detail})
    assert out["error"] == "items[2].label: unknown class 'x'; request body: Invalid JSON" and out["detail"] == detail
    assert error_message("Not Found") == {"error": "Not Found"}
