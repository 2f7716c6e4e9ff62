"""Redirects name a path, never a host taken from the request (issue 30, Info)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("path", "to"), [("/terms/gradient-descent/", "/terms/gradient-descent"), ("/api/terms/", "/api/terms")]
)
def test_a_redirect_to_the_path_without_its_slash_ignores_the_host_header(client, path: str, to: str) -> None:
    """Starlette's slash redirect was http://evil.example/... for `Host: evil.example`."""
    response = client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code in (301, 307, 308) and response.headers["location"] == to


def test_a_redirect_keeps_its_query(client) -> None:
    response = client.get("/api/terms/?x=1", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.headers["location"] == "/api/terms?x=1"
