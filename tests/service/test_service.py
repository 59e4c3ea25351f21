"""The BentoML service over real HTTP: one server per module (see conftest.py)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from augment_gan.runtime.generator import OnnxGenerator
from tests.export.helpers import CLASSES
from tests.service.conftest import REJECTED, start_server, wait_ready

pytestmark = pytest.mark.slow  # real `bentoml serve` subprocesses: three servers, about a minute on 2 cores

MAX_COUNT = 64


def post(server, route: str, payload=None, **kw) -> requests.Response:
    if payload is not None:
        kw["json"] = payload
    return requests.post(f"{server.url}{route}", timeout=60, **kw)


def decode_png(b64: str) -> np.ndarray:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    arr = np.asarray(image)
    return arr[:, :, None] if arr.ndim == 2 else arr


def assert_400(resp: requests.Response, *words: str) -> str:
    assert resp.status_code == 400, (resp.status_code, resp.text)
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body["error"], str) and body["error"], body
    for word in words:
        assert word in body["error"], (word, body["error"])
    return body["error"]


def test_health_endpoints(server):
    assert requests.get(f"{server.url}/livez", timeout=10).status_code == 200
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    metrics = requests.get(f"{server.url}/metrics", timeout=10)
    assert metrics.status_code == 200 and "bentoml_service_request" in metrics.text


def test_model_matches_card(server, gated_model: Path):
    card = json.loads((gated_model / "card.json").read_text())
    info = requests.get(f"{server.url}/model", timeout=10).json()
    assert info["classes"] == card["classes"] == CLASSES
    assert (info["resolution"], info["channels"], info["latent_dim"]) == (
        card["resolution"],
        card["channels"],
        card["latent_dim"],
    )
    assert info["version"] == card["version"] and info["name"] == card["name"]
    assert info["max_count"] == MAX_COUNT
    assert info["selection"]["on"] is True  # the model dir has a judge: per-sample selection serves
    assert info["gate"]["ran"] is True and info["gate"]["thresholds"] == card["gate"]["thresholds"]
    for c in CLASSES:
        assert info["gate"]["per_class"][c]["passed"] == card["gate"]["per_class"][c]["passed"]
        assert info["gate"]["per_class"][c]["reasons"] == card["gate"]["per_class"][c]["reasons"]
    assert info["gate"]["per_class"][REJECTED]["passed"] is False
    assert requests.post(f"{server.url}/model", timeout=10).status_code == 405


def test_generate_png_deterministic_and_matches_runtime(server, gated_model: Path):
    payload = {"label": "dog", "count": 3, "seed": 123}
    a, b = post(server, "/generate", payload), post(server, "/generate", payload)
    assert a.status_code == b.status_code == 200, a.text
    ra, rb = a.json(), b.json()
    assert (ra["label"], ra["class_index"], ra["seed"], ra["count"]) == ("dog", 1, 123, 3)
    assert len(ra["images"]) == 3 and all(im["label"] == "dog" and im["seed"] == 123 for im in ra["images"])
    pa = np.stack([decode_png(im["png"]) for im in ra["images"]])
    pb = np.stack([decode_png(im["png"]) for im in rb["images"]])
    assert pa.shape == (3, 32, 32, 1) and pa.dtype == np.uint8
    np.testing.assert_array_equal(pa, pb)
    expected = OnnxGenerator.load(gated_model, providers=["CPUExecutionProvider"]).generate("dog", 3, seed=123)
    np.testing.assert_array_equal(pa, expected)
    by_index = post(server, "/generate", {"label": 1, "count": 3, "seed": 123}).json()
    assert [im["png"] for im in by_index["images"]] == [im["png"] for im in ra["images"]]
    other = post(server, "/generate", {"label": "dog", "count": 3, "seed": 124}).json()
    assert [im["png"] for im in other["images"]] != [im["png"] for im in ra["images"]]


def test_the_service_serves_selected_samples(server, gated_model: Path):
    served = post(server, "/generate", {"label": "dog", "count": 16, "seed": 5, "format": "npy"}).json()
    images = np.load(io.BytesIO(base64.b64decode(served["npy"])))
    selected = OnnxGenerator.load(gated_model, providers=["CPUExecutionProvider"])
    plain = OnnxGenerator.load(gated_model, providers=["CPUExecutionProvider"], select=False).generate(
        "dog", 16, seed=5
    )
    np.testing.assert_array_equal(images, selected.generate("dog", 16, seed=5))
    assert not np.array_equal(images, plain)  # some first candidates were rejected and replaced


def test_generate_without_seed_returns_a_reproducible_seed(server):
    r = post(server, "/generate", {"label": "cat", "count": 2}).json()
    again = post(server, "/generate", {"label": "cat", "count": 2, "seed": r["seed"]}).json()
    assert [im["png"] for im in again["images"]] == [im["png"] for im in r["images"]]


def test_generate_npy(server, gated_model: Path):
    r = post(server, "/generate", {"label": "cat", "count": 4, "seed": 7, "format": "npy"})
    assert r.status_code == 200, r.text
    body = r.json()
    arr = np.load(io.BytesIO(base64.b64decode(body["npy"])), allow_pickle=False)
    assert arr.shape == tuple(body["shape"]) == (4, 32, 32, 1) and arr.dtype == np.uint8
    png = post(server, "/generate", {"label": "cat", "count": 4, "seed": 7}).json()
    np.testing.assert_array_equal(arr, np.stack([decode_png(im["png"]) for im in png["images"]]))


def test_generate_answers_bulk_clients_in_binary_by_accept(server):
    json_body = post(server, "/generate", {"label": "dog", "count": 3, "seed": 11}).json()
    pixels = np.stack([decode_png(im["png"]) for im in json_body["images"]])
    for accept in ("application/x-npy", "application/octet-stream", "image/webp, application/x-npy;q=0.9"):
        r = post(server, "/generate", {"label": "dog", "count": 3, "seed": 11}, headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-npy", (accept, r.headers)
        assert (r.headers["x-augment-gan-seed"], r.headers["x-augment-gan-label"]) == ("11", "dog")
        np.testing.assert_array_equal(np.load(io.BytesIO(r.content), allow_pickle=False), pixels)
    r = post(server, "/generate", {"label": "dog", "count": 3, "seed": 11}, headers={"Accept": "application/zip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert archive.namelist() == ["000.png", "001.png", "002.png"]
        np.testing.assert_array_equal(
            np.stack([decode_png(base64.b64encode(archive.read(n))) for n in archive.namelist()]), pixels
        )
    assert post(server, "/generate", {"label": "dog", "count": 1}, headers={"Accept": "*/*"}).headers[
        "content-type"
    ] == ("application/json")


def test_generate_grid(server):
    r = post(server, "/generate_grid", {"label": "cat", "count": 6, "seed": 3, "nrow": 3})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png" and r.headers["x-augment-gan-seed"] == "3"
    image = Image.open(io.BytesIO(r.content))
    assert image.mode == "L" and image.size == (3 * 34 + 2, 2 * 34 + 2)  # 32 px + 2 px padding
    assert post(server, "/generate_grid", {"label": "cat", "count": 6, "seed": 3, "nrow": 3}).content == r.content


def test_generate_batch_matches_generate_and_mixes_classes(server):
    items = [{"label": "cat", "seed": 1}, {"label": "dog", "seed": 2}, {"label": 0, "seed": 3}]
    r = post(server, "/generate_batch", {"items": items})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(o["label"], o["seed"]) for o in out] == [("cat", 1), ("dog", 2), ("cat", 3)]
    for o in out:
        single = post(server, "/generate", {"label": o["label"], "count": 1, "seed": o["seed"]}).json()
        np.testing.assert_array_equal(decode_png(o["png"]), decode_png(single["images"][0]["png"]))

    # Concurrent requests for different classes are batched together; each gets its own items back.
    def one(k: int):
        label = CLASSES[k % 2]
        resp = post(server, "/generate_batch", {"items": [{"label": label, "seed": 100 + k}] * 2})
        return k, label, resp

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(16)))
    for k, label, resp in results:
        assert resp.status_code == 200, resp.text
        got = resp.json()
        assert [(o["label"], o["seed"]) for o in got] == [(label, 100 + k)] * 2


@pytest.mark.parametrize(
    ("route", "payload", "words"),
    [
        ("/generate", {"label": "wolf", "count": 2}, ["unknown class 'wolf'", "cat"]),
        ("/generate", {"label": 7, "count": 2}, ["unknown class 7"]),
        ("/generate", {"label": -1, "count": 2}, ["unknown class"]),
        ("/generate", {"label": "cat", "count": 0}, ["count"]),
        ("/generate", {"label": "cat", "count": -3}, ["count"]),
        ("/generate", {"label": "cat", "count": MAX_COUNT + 1}, ["count", str(MAX_COUNT)]),
        ("/generate", {"label": "cat", "count": "8"}, ["count", "integer"]),
        ("/generate", {"label": "cat", "count": 2.5}, ["count"]),
        ("/generate", {"label": "cat", "count": True}, ["count"]),
        ("/generate", {"label": 1.5, "count": 2}, ["label"]),
        ("/generate", {"label": True, "count": 2}, ["label"]),
        ("/generate", {"label": ["cat"], "count": 2}, ["label"]),
        ("/generate", {"label": None, "count": 2}, ["label"]),
        ("/generate", {"count": 2}, ["label", "required"]),
        ("/generate", {"label": "cat"}, ["count", "required"]),
        ("/generate", {}, ["label"]),
        ("/generate", {"label": "cat", "count": 2, "seed": -1}, ["seed"]),
        ("/generate", {"label": "cat", "count": 2, "seed": 2**70}, ["seed"]),
        ("/generate", {"label": "cat", "count": 2, "seed": "abc"}, ["seed"]),
        ("/generate", {"label": "cat", "count": 2, "format": "jpeg"}, ["format"]),
        ("/generate", {"label": "cat", "count": 2, "cnt": 3}, ["cnt"]),
        ("/generate", [1, 2], ["object"]),
        ("/generate", "cat", ["object"]),
        ("/generate", {"label": REJECTED, "count": 2}, ["quality gate", REJECTED]),
        ("/generate", {"label": 2, "count": 2}, ["quality gate"]),
        ("/generate_grid", {"label": REJECTED, "count": 2}, ["quality gate"]),
        ("/generate_grid", {"label": "cat", "count": 0}, ["count"]),
        ("/generate_grid", {"label": "cat", "count": 4, "nrow": 0}, ["nrow"]),
        ("/generate_grid", {"label": "x", "count": 4}, ["unknown class"]),
        ("/generate_batch", {"items": []}, ["items"]),
        ("/generate_batch", {"items": [{"label": "cat"}] * (MAX_COUNT + 1)}, ["items"]),
        ("/generate_batch", {"items": [{"label": "cat"}, {"label": "x"}]}, ["items[1].label", "unknown class"]),
        ("/generate_batch", {"items": [{"label": REJECTED}]}, ["quality gate"]),
        ("/generate_batch", {"items": [{"label": "cat", "seed": -2}]}, ["seed"]),
        ("/generate_batch", {"items": {"label": "cat"}}, ["items"]),
        ("/generate_batch", {"label": "cat"}, ["items"]),
    ],
)
def test_bad_input_is_400_with_error(server, route, payload, words):
    assert_400(post(server, route, payload), *words)


@pytest.mark.parametrize("body", [b"", b"not json", b'{"label": "cat", "count": 2', b"\xff\xfe\x00", b"null"])
def test_malformed_bodies_are_400(server, body):
    resp = post(server, "/generate", data=body, headers={"Content-Type": "application/json"})
    assert_400(resp)


def test_form_or_missing_content_type_is_read_as_json(server):
    body = json.dumps({"label": "cat", "count": 1, "seed": 5})
    plain = post(server, "/generate", data=body)  # no content type
    form = post(server, "/generate", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert plain.status_code == form.status_code == 200, (plain.text, form.text)
    assert plain.json()["images"] == form.json()["images"]


def test_huge_bodies_are_refused(server):
    huge = json.dumps({"label": "cat", "count": 1, "pad": "x" * 200_000}).encode()
    resp = post(server, "/generate", data=huge, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and "bytes" in resp.json()["error"]

    def chunks():  # chunked transfer: no Content-Length to check up front
        for _ in range(40):
            yield b"x" * 10_000

    resp = post(server, "/generate_batch", data=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and "bytes" in resp.json()["error"]


def test_server_still_healthy_after_bad_input(server):
    assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    assert post(server, "/generate", {"label": "cat", "count": MAX_COUNT, "seed": 0}).status_code == 200
    log = server.log.read_text(errors="replace")
    assert "400, 1 invalid field(s)" in log and "Traceback" not in log  # a bad request is one line, not a stack


def test_ungated_model_refused_without_env(ungated_model: Path, tmp_path: Path):
    srv = start_server(ungated_model, tmp_path / "refused.log")
    try:
        rc = srv.proc.wait(60)
    finally:
        srv.stop()
    assert rc != 0
    assert "without the quality gate" in srv.log_tail() and "AUGMENT_GAN_ALLOW_UNGATED" in srv.log_tail()


def test_ungated_model_served_with_env(ungated_model: Path, tmp_path: Path):
    srv = start_server(ungated_model, tmp_path / "ungated.log", AUGMENT_GAN_ALLOW_UNGATED="1")
    try:
        wait_ready(srv)
        info = requests.get(f"{srv.url}/model", timeout=10).json()
        assert info["gate"]["ran"] is False
        r = post(srv, "/generate", {"label": "eel", "count": 2, "seed": 0})  # no gate: every class is served
        assert r.status_code == 200 and len(r.json()["images"]) == 2
    finally:
        srv.stop()


def test_other_4xx_use_the_same_error_shape(server):
    missing = requests.get(f"{server.url}/nope", timeout=10)
    assert missing.status_code == 404 and isinstance(missing.json()["error"], str)
    wrong_method = requests.get(f"{server.url}/generate", timeout=10)
    assert wrong_method.status_code == 405 and isinstance(wrong_method.json()["error"], str)
