"""A tiny local stand-in for Kakao's OAuth server (authorize, token, profile) for tests."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class FakeKakao:
    url: str = ""
    kakao_id: int = 4242
    email: str | None = "kakao.shopper@example.com"
    nickname: str = "카카오쇼퍼"
    codes: dict[str, str] = field(default_factory=dict)  # code → redirect_uri
    tokens: set[str] = field(default_factory=set)
    token_requests: list[dict] = field(default_factory=list)
    fail_token: bool = False

    def authorize(self, authorize_url: str) -> str:
        """What a browser does: GET the authorize URL, return where Kakao redirects it."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(authorize_url, timeout=5)
        except urllib.error.HTTPError as exc:
            if exc.code == 302:
                return exc.headers["Location"]
            raise
        raise AssertionError("the fake authorize endpoint did not redirect")


def _handler(state: FakeKakao):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _json(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/oauth/authorize":
                if query.get("response_type") != "code" or not query.get("client_id"):
                    return self._json(400, {"error": "invalid_request"})
                code = secrets.token_urlsafe(16)
                state.codes[code] = query["redirect_uri"]
                back = (
                    query["redirect_uri"]
                    + "?"
                    + urlencode({"code": code, "state": query.get("state", "")})
                )
                self.send_response(302)
                self.send_header("Location", back)
                self.end_headers()
                return None
            if parts.path == "/v2/user/me":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in state.tokens:
                    return self._json(401, {"code": -401, "msg": "this access token is invalid"})
                account = {"profile": {"nickname": state.nickname}}
                if state.email:
                    account.update(email=state.email, is_email_valid=True, is_email_verified=True)
                return self._json(200, {"id": state.kakao_id, "kakao_account": account})
            return self._json(404, {"error": "not_found"})

        def do_POST(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if parts.path != "/oauth/token":
                return self._json(404, {"error": "not_found"})
            state.token_requests.append(form)
            code = form.get("code", "")
            if state.fail_token or state.codes.pop(code, None) != form.get("redirect_uri"):
                return self._json(400, {"error": "invalid_grant"})
            token = secrets.token_urlsafe(24)
            state.tokens.add(token)
            return self._json(
                200,
                {
                    "token_type": "bearer",
                    "access_token": token,
                    "expires_in": 21599,
                    "refresh_token": secrets.token_urlsafe(24),
                    "refresh_token_expires_in": 5183999,
                },
            )

    return Handler


def start_fake_kakao() -> tuple[FakeKakao, ThreadingHTTPServer]:
    state = FakeKakao()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server
