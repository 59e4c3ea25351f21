"""The optional API token: which requests need it, the constant-time check, and the settings that set it."""

from __future__ import annotations

from pathlib import Path

import pytest

from augment_gan.errors import ConfigError
from augment_gan.service.auth import ApiToken, read_token_file

TOKEN = "tok-3f9a"


def bearer(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"Authorization", value.encode())]


def test_without_a_token_nothing_is_protected():
    auth = ApiToken()
    assert not auth.on and not any(auth.protects(m, p) for m, p in (("POST", "/generate"), ("GET", "/model")))


def test_generation_and_model_endpoints_need_the_token_probes_only_when_asked():
    auth = ApiToken(TOKEN)
    assert all(
        auth.protects(m, p)
        for m, p in (("POST", "/generate"), ("POST", "/generate_batch"), ("GET", "/model/"), ("POST", "/anything"))
    )
    assert not any(auth.protects("GET", p) for p in ("/livez", "/readyz", "/metrics", "/docs.json", "/"))
    assert all(ApiToken(TOKEN, protect_probes=True).protects("GET", p) for p in ("/livez", "/readyz", "/metrics"))


def test_only_the_exact_bearer_token_is_allowed():
    auth = ApiToken(TOKEN)
    assert auth.allows(bearer(f"Bearer {TOKEN}")) and auth.allows(bearer(f"bearer {TOKEN}"))
    for wrong in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}", "Bearer ", ""):
        assert not auth.allows(bearer(wrong)), wrong
    assert not auth.allows([(b"content-type", b"application/json")])


def test_the_token_is_not_in_its_repr():
    assert TOKEN not in repr(ApiToken(TOKEN)) and TOKEN not in str(ApiToken(TOKEN))


def test_token_file_is_read_stripped_and_checked(tmp_path: Path):
    f = tmp_path / "t"
    f.write_text(f"  {TOKEN}\n")
    assert read_token_file(f) == TOKEN
    for bad, words in (("", "is empty"), ("two words", "whitespace")):
        f.write_text(bad)
        with pytest.raises(ConfigError, match=words):
            read_token_file(f)


@pytest.mark.slow
def test_a_served_model_needs_the_token_and_never_logs_it(gated_model: Path, tmp_path: Path):
    from tests.service.conftest import requests, start_server, wait_ready

    (tmp_path / "token").write_text(TOKEN + "\n")
    srv = start_server(gated_model, tmp_path / "auth.log", AUGMENT_GAN_API_TOKEN_FILE=str(tmp_path / "token"))
    calls = (
        ("post", "/generate", {"label": 0, "count": 1, "seed": 3}),
        ("post", "/generate_grid", {"label": 0, "count": 2}),
        ("post", "/generate_batch", {"items": [{"label": 0, "seed": 1}]}),
        ("get", "/model", None),
    )
    try:
        wait_ready(srv)  # /readyz needs no token
        for method, route, body in calls:
            for headers in ({}, {"Authorization": f"Bearer {TOKEN}-wrong"}, {"Authorization": TOKEN}):
                r = requests.request(method, f"{srv.url}{route}", json=body, headers=headers, timeout=60)
                assert r.status_code == 401, (route, headers, r.status_code)
                assert "Bearer" in r.headers["www-authenticate"] and "API token" in r.json()["error"]
            r = requests.request(
                method, f"{srv.url}{route}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
            )
            assert r.status_code == 200, (route, r.text)
        assert requests.get(f"{srv.url}/livez", timeout=10).status_code == 200
        assert requests.get(f"{srv.url}/metrics", timeout=10).status_code == 200
    finally:
        srv.stop()
    log = srv.log.read_text(errors="replace")
    assert "/generate" in log  # the access log is on, so the check below could see the token
    assert TOKEN not in log


@pytest.mark.slow
def test_an_unreadable_token_file_stops_the_server_with_one_line(gated_model: Path, tmp_path: Path):
    from tests.service.conftest import start_server

    srv = start_server(gated_model, tmp_path / "bad-token.log", AUGMENT_GAN_API_TOKEN_FILE=str(tmp_path / "missing"))
    try:
        assert srv.proc.wait(60) != 0
    finally:
        srv.stop()
    log = srv.log.read_text(errors="replace")
    assert "augment-gan service: cannot read the API token file" in log and "Traceback" not in log
