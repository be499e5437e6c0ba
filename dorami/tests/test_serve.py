"""`manage.py serve --wsgi`: the client address behind nginx, like uvicorn's proxy_headers."""

from dorami.management.commands.serve import proxy_headers


def _remote_addr(*, trusted: str, peer: str, forwarded: str | None) -> str:
    seen = {}

    def app(environ, start_response):
        seen["remote"] = environ["REMOTE_ADDR"]
        return []

    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    proxy_headers(app, trusted)(environ, lambda *args: None)
    return seen["remote"]


def test_a_trusted_proxy_reports_the_client():
    assert _remote_addr(trusted="*", peer="172.18.0.9", forwarded="203.0.113.7") == "203.0.113.7"
    assert (
        _remote_addr(trusted="127.0.0.1", peer="127.0.0.1", forwarded="203.0.113.7")
        == "203.0.113.7"
    )


def test_an_untrusted_peer_cannot_claim_an_address():
    assert (
        _remote_addr(trusted="127.0.0.1", peer="198.51.100.4", forwarded="10.0.0.1")
        == "198.51.100.4"
    )


def test_the_nearest_untrusted_hop_wins_in_a_chain():
    chain = "10.0.0.1, 203.0.113.7, 127.0.0.1"
    assert _remote_addr(trusted="127.0.0.1", peer="127.0.0.1", forwarded=chain) == "203.0.113.7"


def test_without_the_header_nothing_changes():
    assert _remote_addr(trusted="*", peer="172.18.0.9", forwarded=None) == "172.18.0.9"
    assert _remote_addr(trusted="*", peer="172.18.0.9", forwarded="") == "172.18.0.9"


def test_the_socket_server_writes_no_line_per_socket_and_freezes_what_it_loaded(monkeypatch):
    """nginx logs every upgrade: uvicorn's INFO lines per socket are off (warnings stay), and
    the objects loaded with the application are out of the garbage collector's full passes."""
    import gc

    import dorami.asgi  # noqa: F401 - freezes on import
    from dorami.management.commands import serve

    seen = {}
    monkeypatch.setattr(serve._LoggedServer, "run", lambda server: seen.update(c=server.config))
    serve.Command()._uvicorn_run(host="127.0.0.1", port=8765, workers=1, graceful=5)
    config = seen["c"]
    assert config.app == "dorami.asgi:application"
    assert config.log_level == "warning"
    assert config.access_log is False
    assert config.backlog == 4096
    assert gc.get_freeze_count() > 0
