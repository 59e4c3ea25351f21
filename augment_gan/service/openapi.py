"""The OpenAPI document (``GET /docs.json``) of the loaded model: the API as it really answers.

BentoML's own document cannot say what this service does: its errors are ``{"error"}``
bodies, ``/generate_grid`` answers ``image/png``, ``GET /model`` and the API token live in
the middleware, and which labels are valid depends on the model. So the middleware serves
this one instead (the Swagger page at ``/`` reads it too). Request bodies come from the
pydantic models in :mod:`augment_gan.service.schemas`, the label's allowed values from the
loaded model (classes that passed the quality gate, by name or index), and the responses
are described here next to nothing else, so a change of :mod:`augment_gan.service.encoding`
shows up as a failing contract test (``tests/service/test_openapi.py``) until this follows.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from augment_gan import __version__
from augment_gan.runtime.generator import OnnxGenerator
from augment_gan.service.auth import ApiToken
from augment_gan.service.schemas import (
    MAX_BODY_BYTES,
    MAX_COUNT,
    MAX_SEED,
    BatchRequest,
    GenerateRequest,
    GridRequest,
    servable,
)

REF = "#/components/schemas/{model}"
JSON = "application/json"


def label_schema(gen: OnnxGenerator) -> dict[str, Any]:
    classes = servable(gen)
    return {
        "description": "A class this model generates: its name, or its 0-based index (an integer).",
        "anyOf": [
            {"type": "string", "enum": [c.name for c in classes]},
            {"type": "integer", "enum": [c.index for c in classes]},
        ],
    }


def _json_schema_names(schema: Any) -> Any:
    """pydantic writes a constraint behind a validator as ``ge``/``le``; JSON Schema says minimum/maximum."""
    if isinstance(schema, list):
        return [_json_schema_names(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    renamed = {"ge": "minimum", "le": "maximum"} if schema.get("type") in ("integer", "number") else {}
    return {renamed.get(k, k): _json_schema_names(v) for k, v in schema.items()}


def _request(model: type[BaseModel], components: dict[str, Any], label: dict[str, Any]) -> dict[str, Any]:
    schema = _json_schema_names(model.model_json_schema(ref_template=REF))
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    for sub in (schema, *components.values()):
        if "label" in sub.get("properties", {}):
            sub["properties"]["label"] = copy.deepcopy(label)
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong and what to fix."},
        "detail": {"type": "array", "items": {"type": "object"}, "description": "Validation errors, one per field."},
    },
}
IMAGE_FIELDS = {
    "label": {"type": "string"},
    "class_index": {"type": "integer", "minimum": 0},
    "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
}
PNG_B64 = {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"}
GENERATED = {
    "type": "object",
    "description": "``images`` (format png) or ``npy`` + ``shape`` + ``dtype`` (format npy).",
    "required": [*IMAGE_FIELDS, "count", "format", "height", "width", "channels"],
    "additionalProperties": False,
    "properties": {
        **IMAGE_FIELDS,
        "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
        "format": {"type": "string", "enum": ["png", "npy"]},
        "height": {"type": "integer"},
        "width": {"type": "integer"},
        "channels": {"type": "integer"},
        "images": {
            "type": "array",
            "maxItems": MAX_COUNT,
            "items": {
                "type": "object",
                "required": ["index", "label", "seed", "png"],
                "additionalProperties": False,
                "properties": {
                    "index": {"type": "integer", "minimum": 0},
                    "label": IMAGE_FIELDS["label"],
                    "seed": IMAGE_FIELDS["seed"],
                    "png": PNG_B64,
                },
            },
        },
        "npy": {
            "type": "string",
            "contentEncoding": "base64",
            "description": "np.save bytes of a uint8 (count, H, W, C) array.",
        },
        "shape": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4},
        "dtype": {"type": "string", "enum": ["uint8"]},
    },
}
BATCH = {
    "type": "array",
    "items": {
        "type": "object",
        "required": [*IMAGE_FIELDS, "png"],
        "additionalProperties": False,
        "properties": {**IMAGE_FIELDS, "png": PNG_B64},
    },
}
MODEL = {
    "type": "object",
    "required": [
        "name",
        "version",
        "classes",
        "resolution",
        "channels",
        "latent_dim",
        "providers",
        "max_count",
        "gate",
        "selection",
    ],
    "properties": {
        "classes": {"type": "array", "items": {"type": "string"}},
        "resolution": {"type": "integer"},
        "channels": {"type": "integer"},
        "latent_dim": {"type": "integer"},
        "providers": {"type": "array", "items": {"type": "string"}},
        "max_count": {"type": "integer"},
        "gate": {"type": "object", "required": ["ran", "per_class"]},
        "selection": {"type": "object", "required": ["on"]},
    },
}
IMAGE_HEADERS = {
    "X-Augment-Gan-Seed": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-Augment-Gan-Label": {"required": True, "schema": {"type": "string"}},
    "X-Augment-Gan-Class-Index": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
}
BINARY = {"type": "string", "contentMediaType": "application/octet-stream"}


def errors(auth: ApiToken, *, body: bool) -> dict[str, Any]:
    """The error responses an operation can give (all ``{"error"}`` bodies)."""
    out = {}
    if body:
        out["400"] = _json(
            "Invalid request: unknown or gate-rejected class, value out of range, wrong type, bad JSON.",
            {"$ref": REF.format(model="Error")},
        )
    if auth.on:
        out["401"] = _json("Missing or wrong API token.", {"$ref": REF.format(model="Error")})
    if body:
        out["413"] = _json(f"Request body over {MAX_BODY_BYTES} bytes.", {"$ref": REF.format(model="Error")})
    out["503"] = _json(
        "The model is not loaded (yet), or the server is overloaded; retry later.", {"$ref": REF.format(model="Error")}
    )
    return out


def _operation(
    summary: str, auth: ApiToken, protected: bool, responses: dict[str, Any], body: dict | None = None
) -> dict:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = body
    op["security"] = [{"bearer": []}] if auth.on and protected else []
    return op


def document(gen: OnnxGenerator, auth: ApiToken) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this service serving ``gen`` (with ``auth``'s token rules)."""
    components: dict[str, Any] = {"Error": ERROR}
    label = label_schema(gen)
    generate = _request(GenerateRequest, components, label)
    grid = _request(GridRequest, components, label)
    batch = _request(BatchRequest, components, label)
    probes_protected = auth.protect_probes

    def probe(summary: str, responses: dict[str, Any]) -> dict[str, Any]:
        if auth.on and probes_protected:
            responses = {**responses, "401": _json("Missing or wrong API token.", {"$ref": REF.format(model="Error")})}
        return {"get": _operation(summary, auth, probes_protected, responses)}

    paths = {
        "/generate": {
            "post": _operation(
                "count images of one class: base64 PNGs, or one base64 .npy array",
                auth,
                True,
                {
                    "200": {
                        "description": "The images and what made them (the seed reproduces them), in the media type the "
                        "Accept header asks for: JSON (default), application/x-npy (np.save bytes of a "
                        "uint8 (count, H, W, C) array; application/octet-stream gives the same), or "
                        "application/zip (000.png, 001.png, ...).",
                        "headers": IMAGE_HEADERS,
                        "content": {
                            JSON: {"schema": GENERATED},
                            "application/x-npy": {"schema": BINARY},
                            "application/octet-stream": {"schema": BINARY},
                            "application/zip": {"schema": BINARY},
                        },
                    },
                    **errors(auth, body=True),
                },
                generate,
            )
        },
        "/generate_grid": {
            "post": _operation(
                "one PNG grid of count images of one class",
                auth,
                True,
                {
                    "200": {
                        "description": "The grid.",
                        "headers": IMAGE_HEADERS,
                        "content": {"image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}}},
                    },
                    **errors(auth, body=True),
                },
                grid,
            )
        },
        "/generate_batch": {
            "post": _operation(
                "one PNG per item; items of concurrent requests run together",
                auth,
                True,
                {"200": _json("One image per item, in order.", BATCH), **errors(auth, body=True)},
                batch,
            )
        },
        "/model": {
            "get": _operation(
                "the model: classes, limits, the quality gate per class, selection",
                auth,
                True,
                {"200": _json("The model card's public part.", MODEL), **errors(auth, body=False)},
            )
        },
        "/livez": probe("liveness", {"200": {"description": "The server process is alive."}}),
        "/readyz": probe(
            "readiness", {"200": {"description": "The model is loaded."}, "503": {"description": "Not ready (yet)."}}
        ),
        "/metrics": probe(
            "Prometheus metrics",
            {
                "200": {
                    "description": "Prometheus text format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        ),
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "augment-gan",
            "version": __version__,
            "description": f"Class-conditional image generation from the model {gen.card.get('name')!r} "
            f"v{gen.card.get('version')} (classes it generates: "
            f"{[c.name for c in servable(gen)]}).",
        },
        "paths": paths,
        "components": {"schemas": components},
    }
    if auth.on:
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    return doc
