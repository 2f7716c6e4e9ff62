"""What an app holds while it serves (its settings, pages, run engine, classes, demos), typed.

create_app installs one AppState as `app.state`; routes read it through `app_state(request.app)`,
so each read is checked (by mypy) and a misspelt name fails there rather than at request time.
It stays a Starlette `State`, so `request.app.state.<name>` keeps working where it is still read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.datastructures import State

if TYPE_CHECKING:
    from app.classes.board import ClassFeeds
    from app.classes.store import ClassStore
    from app.demos.base import Demo
    from app.glossary.site import Site
    from app.playground.core.interface import RunEngine
    from app.playground.http.panel import PanelRenderer
    from app.settings import Settings


class AppState(State):
    # Declared for the type checker; the values live in State's own dictionary.
    settings: Settings
    site: Site
    engine: RunEngine[Any]
    classes: ClassStore
    class_feeds: ClassFeeds  # one aggregation per open class, shared by its boards
    demos: dict[str, Demo]
    panel: PanelRenderer

    def __init__(
        self,
        *,
        settings: Settings,
        site: Site,
        engine: RunEngine[Any],
        classes: ClassStore,
        class_feeds: ClassFeeds,
        demos: dict[str, Demo],
        panel: PanelRenderer,
    ) -> None:
        # Every field at once, so that no route can find one missing.
        super().__init__(
            {
                "settings": settings,
                "site": site,
                "engine": engine,
                "classes": classes,
                "class_feeds": class_feeds,
                "demos": demos,
                "panel": panel,
            }
        )


def app_state(app: Starlette) -> AppState:
    """The typed state of an app made by app.main.create_app."""
    state = app.state
    if not isinstance(state, AppState):
        raise TypeError(f"app.state is a {type(state).__name__}, not the AppState that create_app installs")
    return state
