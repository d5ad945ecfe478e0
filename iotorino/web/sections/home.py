"""The home page: what the application offers, one link per section."""

from __future__ import annotations

from starlette.requests import Request

from iotorino.web.pages import Page

SECTIONS = ("dati", "scuole", "citta", "allerte")


def index(request: Request) -> Page:
    """`/`: the sections."""
    return Page("home.html", {"sections": [{"id": s, "path": f"/{s}"} for s in SECTIONS]}, "common.site_title")
