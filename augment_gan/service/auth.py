"""The optional API token: ``Authorization: Bearer <token>`` on every generation and model endpoint.

Off unless the operator sets ``AUGMENT_GAN_API_TOKEN_FILE`` (or ``AUGMENT_GAN_API_TOKEN``;
``augment-gan serve --token-file F`` sets the former, so the token is in neither the command
line nor the environment). With a token, every ``POST`` endpoint and ``GET /model`` answer
401 without it; the probes (``/livez``, ``/readyz``, ``/metrics``) stay open unless
``AUGMENT_GAN_TOKEN_PROBES=1`` (a load balancer's health check usually has no token); the
OpenAPI document and the docs page stay open (they describe the API, they do not run it).

The compare is constant-time (:func:`hmac.compare_digest`) and the token is never logged
or shown (``repr`` hides it).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path

from augment_gan.errors import ConfigError

PROBES = ("/livez", "/readyz", "/metrics")
CHALLENGE = (b"www-authenticate", b'Bearer realm="augment-gan"')
UNAUTHORIZED = "missing or wrong API token: send the header 'Authorization: Bearer <token>'."


def read_token_file(path: str | Path) -> str:
    """The token in ``path`` (surrounding whitespace stripped); ConfigError if unreadable or empty."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the API token file {path}: {e}") from None
    if not token:
        raise ConfigError(f"the API token file {path} is empty.")
    if any(c.isspace() for c in token):
        raise ConfigError(f"the API token in {path} contains whitespace; use one line without spaces.")
    return token


@dataclass(frozen=True)
class ApiToken:
    """Which requests need the token, and whether one carries it."""

    token: str | None = field(default=None, repr=False)
    protect_probes: bool = False

    @property
    def on(self) -> bool:
        return self.token is not None

    def protects(self, method: str, path: str) -> bool:
        """True when a request to ``path`` must carry the token."""
        if not self.on:
            return False
        path = path.rstrip("/") or "/"
        if path in PROBES:
            return self.protect_probes
        return method == "POST" or path == "/model"

    def allows(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """True when ``headers`` carry ``Authorization: Bearer <the token>`` (constant-time compare)."""
        expected = b"bearer " + (self.token or "").encode()
        for key, value in headers:
            if key.lower() == b"authorization":
                scheme, _, given = value.partition(b" ")
                return hmac.compare_digest(scheme.lower() + b" " + given.strip(), expected)
        return False
