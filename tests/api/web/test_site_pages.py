"""api/web/site_pages.py: /favicon.ico is our own icon, served to anyone without signing in."""
from __future__ import annotations

from flask import Flask


def test_the_favicon_is_served_and_linked(app: Flask) -> None:
    client = app.test_client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    sign_in = client.get("/sign-in").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in sign_in
    assert client.get("/static/favicon.svg").mimetype == "image/svg+xml"
