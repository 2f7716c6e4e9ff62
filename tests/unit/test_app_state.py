"""The app's typed state: what create_app installs is what the routes read, and anything else is refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from starlette.applications import Starlette

from app.app_state import AppState, app_state
from app.settings import Settings


def test_the_typed_state_is_read_typed_and_by_name_alike() -> None:
    app = Starlette()
    settings = Settings()
    demos: dict = {}
    # Stand-ins for the heavy parts (pages, engine, class store): the state only holds them.
    site, engine, classes, feeds = (SimpleNamespace(part=name) for name in ("site", "engine", "classes", "feeds"))
    app.state = AppState(
        settings=settings,
        site=site,
        engine=engine,
        classes=classes,
        class_feeds=feeds,
        demos=demos,
        panel=str,
    )
    state = app_state(app)
    assert state.settings is settings and state.engine is engine and state.demos is demos
    # Modules not yet moved to the accessor read the same objects by attribute name.
    assert app.state.site is site and app.state.classes is classes and app.state.class_feeds is feeds


def test_an_app_without_the_typed_state_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="not the AppState that create_app installs"):
        app_state(Starlette())
