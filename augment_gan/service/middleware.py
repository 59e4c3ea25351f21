"""Pure ASGI middleware around BentoML's app: the API token, body limit, ``GET /model``, the OpenAPI document, one error shape.

401 without the API token when one is set (:mod:`augment_gan.service.auth`). ``GET /docs.json``
is this service's own document (:mod:`augment_gan.service.openapi`), not BentoML's. Every
4xx body becomes ``{"error": "<what to fix>"}`` (validation errors also keep BentoML's
``"detail"`` list); 413 for a body over ``MAX_BODY_BYTES``; 503 (with why) while this worker
has no model. The full list: ``service/README.md``, Errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from augment_gan.service.auth import CHALLENGE, UNAUTHORIZED, ApiToken
from augment_gan.service.encoding import model_info
from augment_gan.service.openapi import document
from augment_gan.service.schemas import MAX_BODY_BYTES, MAX_COUNT
from augment_gan.service.state import ModelState, current_state

Message = dict[str, Any]
Headers = list[tuple[bytes, bytes]]


def json_response(status: int, payload: Any, headers: Headers | None = None) -> tuple[Message, Message]:
    """The two ASGI messages (start, body) of a JSON response."""
    body = json.dumps(payload).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *(headers or []),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def _loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "request body"


def error_message(payload: Any) -> Any:
    """BentoML's error bodies ({"error", "detail"} or [{"error"}]) -> {"error": "...", ["detail"]}."""
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], dict):
        payload = payload[0]
    if not isinstance(payload, dict):
        return {"error": str(payload)}
    detail = payload.get("detail")
    if isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        parts = []
        for d in detail:
            msg = str(d.get("msg", "invalid value")).removeprefix("Value error, ")
            parts.append(f"{_loc(list(d.get('loc', [])))}: {msg}")
        return {"error": "; ".join(parts), "detail": detail}
    if "error" in payload:
        return payload
    return {"error": json.dumps(payload)}


async def _send(send: Any, start: Message, body: Message) -> None:
    await send(start)
    await send(body)


def _as_json(scope: Message) -> Message:
    """JSON is the only input: curl -d's form type, or none at all, is read as JSON too."""
    headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


class ServiceMiddleware:
    """401 without the token, 413 for bodies over ``max_body``, ``GET /model``, 503 without a model, ``{"error"}`` for every 4xx.

    ``state`` returns this worker's :class:`ModelState` (default: the service instance's).
    """

    def __init__(
        self,
        app: Any,
        max_body: int = MAX_BODY_BYTES,
        state: Callable[[], ModelState] = current_state,
        auth: ApiToken = ApiToken(),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.state = state
        self.auth = auth
        self._document: tuple[Any, tuple[Message, Message]] | None = None

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.auth.protects(scope.get("method", ""), scope.get("path", "")) and not self.auth.allows(
            scope.get("headers") or []
        ):
            await _send(send, *json_response(401, {"error": UNAUTHORIZED}, [CHALLENGE]))
            return
        path = scope.get("path", "").rstrip("/")
        if path in ("/model", "/docs.json"):
            await self._get(scope, send, path)
            return
        if scope.get("method") != "POST":
            await self.app(scope, receive, self._errors(send))
            return
        state = self.state()
        if state.generator is None:
            await _send(send, *json_response(503, {"error": state.not_loaded_message()}))
            return
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            scope = _as_json(scope)
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._too_large(send)
            return
        chunks, size, more = [], 0, True
        while more:  # chunked bodies: read (bounded) before the app sees them
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_body:
                await self._too_large(send)
                return
        await self.app(scope, _replay(b"".join(chunks), receive), self._errors(send))

    async def _too_large(self, send: Any) -> None:
        error = f"request body over {self.max_body} bytes; send at most {MAX_COUNT} images per request."
        await _send(send, *json_response(413, {"error": error}))

    def _errors(self, send: Any) -> Any:
        """``send``, but every 4xx (JSON or plain text, such as 404 and 405) becomes ``{"error": ...}``."""
        held: dict[str, Any] = {}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                held["start"], held["chunks"] = message, []
            elif message["type"] == "http.response.body" and "start" in held:
                held["chunks"].append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                raw = b"".join(held["chunks"])
                try:
                    payload = error_message(json.loads(raw))
                except ValueError:
                    payload = {"error": raw.decode("utf-8", "replace")}
                start = held.pop("start")
                headers = [
                    (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")
                ]
                await _send(send, *json_response(start["status"], payload, headers))
            else:
                await send(message)

        return wrapped

    async def _get(self, scope: Message, send: Any, path: str) -> None:
        """``GET /model`` or ``GET /docs.json``: both describe the loaded model."""
        if scope.get("method") not in ("GET", "HEAD"):
            await _send(send, *json_response(405, {"error": f"use GET {path}."}, [(b"allow", b"GET, HEAD")]))
            return
        state = self.state()
        if state.generator is None:
            await _send(send, *json_response(503, {"error": state.not_loaded_message()}))
            return
        if path == "/model":
            await _send(send, *json_response(200, model_info(state.generator)))
            return
        if self._document is None or self._document[0] is not state.generator:
            self._document = (state.generator, json_response(200, document(state.generator, self.auth)))
        await _send(send, *self._document[1])


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that gives the already-read body first, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
