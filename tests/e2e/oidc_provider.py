"""A small OpenID Connect provider for browser tests of st.login: discovery, authorize, token,
keys and userinfo, on localhost, signing ID tokens with a key of its own (RS256).

Who signs in is the `provider_user` cookie the test gives the browser for the provider's
address: the provider approves them at once, as a company's provider does for a user already
signed in to it. Codes are single-use and bound to the client, the redirect address and the
PKCE challenge.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

USER_COOKIE = "provider_user"
# "false" here: the provider says it has not verified the user's address (email_verified).
VERIFIED_COOKIE = "provider_email_verified"
CLIENT_ID = "closeboard-test"
CLIENT_SECRET = "closeboard-test-secret"


class Provider:
    """The provider's state: its key, its address and the codes it has handed out."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.issuer = ""
        self.codes: dict[str, dict] = {}

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def id_token(self, email: str, nonce: str | None, verified: bool = True) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": hashlib.sha256(email.encode()).hexdigest()[:16],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 600,
            "email": email,
            "email_verified": verified,
        }
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)


def handler_for(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def reply(self, status: int, body: dict | None = None, headers: dict | None = None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self.reply(200, provider.metadata())
            elif url.path == "/jwks":
                self.reply(200, {"keys": [provider.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                self.authorize(query)
            elif url.path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                grant = next((g for g in provider.codes.values() if g.get("token") == token), None)
                if grant is None:
                    self.reply(401, {"error": "invalid_token"})
                else:
                    self.reply(200, {"sub": grant["sub"], "email": grant["email"]})
            else:
                self.reply(404, {"error": "not_found"})

        def authorize(self, query: dict) -> None:
            cookies = SimpleCookie(self.headers.get("Cookie", ""))
            if USER_COOKIE not in cookies:
                self.reply(401, {"error": "login_required"})
                return
            if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                self.reply(400, {"error": "invalid_request"})
                return
            code = secrets.token_urlsafe(16)
            email = cookies[USER_COOKIE].value
            provider.codes[code] = {
                "email": email,
                "verified": VERIFIED_COOKIE not in cookies
                or cookies[VERIFIED_COOKIE].value != "false",
                "sub": hashlib.sha256(email.encode()).hexdigest()[:16],
                "nonce": query.get("nonce"),
                "redirect_uri": query["redirect_uri"],
                "challenge": query.get("code_challenge"),
            }
            back = urlencode({"code": code, "state": query.get("state", "")})
            self.reply(302, headers={"Location": f"{query['redirect_uri']}?{back}"})

        def do_POST(self) -> None:
            if urlparse(self.path).path != "/token":
                self.reply(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length", 0))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            client = (form.get("client_id"), form.get("client_secret"))
            if self.headers.get("Authorization", "").startswith("Basic "):
                decoded = base64.b64decode(self.headers["Authorization"][6:]).decode()
                client = tuple(decoded.split(":", 1))
            grant = provider.codes.get(form.get("code", ""))
            if client != (CLIENT_ID, CLIENT_SECRET) or grant is None or "token" in grant:
                self.reply(400, {"error": "invalid_grant"})
                return
            verifier = form.get("code_verifier", "")
            expected = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if grant["redirect_uri"] != form.get("redirect_uri") or (
                grant["challenge"] and grant["challenge"] != expected
            ):
                self.reply(400, {"error": "invalid_grant"})
                return
            grant["token"] = secrets.token_urlsafe(16)
            self.reply(
                200,
                {
                    "access_token": grant["token"],
                    "token_type": "Bearer",
                    "expires_in": 600,
                    "id_token": provider.id_token(
                        grant["email"], grant["nonce"], grant["verified"]
                    ),
                },
            )

    return Handler


@contextmanager
def running() -> Iterator[str]:
    """The provider on a free port of 127.0.0.1 for as long as the block runs; its address."""
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider.issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
