"""The system Chromium for the browser tests, and a way to close a context that cannot hang.

Now and then, after some sixty tests, Chromium never answers a context's close: the suite hung
there in three full runs (never in a test run alone, and never at the same test). A close is
therefore watched: a browser that has not answered within CLOSE_SECONDS is killed, which ends
the pending close at once, and the next test gets a freshly launched one.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import suppress
from pathlib import Path

CLOSE_SECONDS = 20


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            # The process name, in parentheses, may hold spaces: the fields after it are plain.
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    return children


def _chromium_processes() -> set[int]:
    """Chromium's own processes (not its renderers and helpers, which die with it) under this one."""
    children, found, todo = _children(), set(), [os.getpid()]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            with suppress(OSError):
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"chromium" in argv[0] and not any(arg.startswith(b"--type=") for arg in argv):
                    found.add(pid)
    return found


class Chromium:
    """One Chromium launched with `args`, launched again when a stuck one had to be killed."""

    def __init__(self, browser_type, executable: str, args: list[str]) -> None:
        self.browser_type, self.executable, self.args = browser_type, executable, args
        self.browser = None
        self.pids: set[int] = set()

    def current(self):
        if self.browser is None or not self.browser.is_connected():
            before = _chromium_processes()
            self.browser = self.browser_type.launch(executable_path=self.executable, args=self.args)
            self.pids = _chromium_processes() - before
        return self.browser

    def close_context(self, context) -> None:
        from playwright.sync_api import Error as PlaywrightError

        watchdog = threading.Timer(CLOSE_SECONDS, self._kill)
        watchdog.start()
        try:
            # Leaving each page first lets it drop its Web Lock and close its event streams.
            for page in context.pages:
                with suppress(PlaywrightError):
                    page.goto("about:blank", timeout=5_000)
            with suppress(PlaywrightError):  # raised when the watchdog had to kill the browser
                context.close()
        finally:
            watchdog.cancel()

    def _kill(self) -> None:
        for pid in self.pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        if self.browser is not None and self.browser.is_connected():
            watchdog = threading.Timer(CLOSE_SECONDS, self._kill)
            watchdog.start()
            try:
                self.browser.close()
            finally:
                watchdog.cancel()
