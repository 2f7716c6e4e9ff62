"""`modelterms serve | worker | check | prepare`: run the server or a Redis training worker, validate all
content, build artifacts."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from app.settings import Settings


def _settings_help() -> str:
    lines = ["environment variables (defaults in brackets):"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, list):
            default = ",".join(map(str, default)) or "none"
        lines.append(f"  MODELTERMS_{name.upper():<22} {field.description} [{default}]")
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.app_state import app_state
    from app.main import ContentError, create_app
    from app.playground.embedded.store import RunStore, StoreError
    from app.server import LOG_CONFIG, connection_limit, guarded_http

    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = Settings(**overrides)
    if args.reload:
        # Reload re-imports the app in a fresh process; content and templates changes restart it.
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            reload=True,
            reload_dirs=["app", "templates", *map(str, settings.content_dirs)],
            reload_includes=["*.py", "*.html", "*.md"],
            proxy_headers=False,  # who a client is: the app decides (MODELTERMS_TRUSTED_PROXIES), not uvicorn
        )
        return 0
    try:
        if not settings.redis_url:  # with Redis, finished runs are kept there
            RunStore(settings.data_dir / "runs.sqlite3", settings.keep_runs).close()  # writable? say so now
        app = create_app(settings)
    except (ContentError, StoreError) as error:
        print(f"modelterms: refusing to start: {error}", file=sys.stderr)
        if isinstance(error, StoreError) and (why := unwritable(settings.data_dir)):
            print(why, file=sys.stderr)
        return 2

    class DrainingServer(uvicorn.Server):
        """On SIGTERM (or Ctrl+C), stop the run engine before waiting for open responses.

        uvicorn waits for open responses (up to timeout_graceful_shutdown) before the lifespan
        shutdown stops the engine, and a live event stream stays open until its run ends: it held
        the exit for the whole timeout and was then cut off without its `end` event. Stopping the
        engine first ends every run as `cancelled` (stored), which closes each stream cleanly; the
        lifespan's own stop then finds nothing left to do.
        """

        async def shutdown(self, sockets=None) -> None:
            await app_state(app).engine.stop()
            await super().shutdown(sockets)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn raises the caught SIGTERM or SIGINT again once it has shut down, so a
            # drained server still dies by it (status 143 in a container, `make: ***` on Ctrl+C).
            # Once every run is stopped and stored the stop was a success: exit 0. A second
            # Ctrl+C (a forced exit, open responses cut off) still dies by its signal.
            with super().capture_signals():
                yield
                if not self.force_exit:
                    self._captured_signals.clear()

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=guarded_http(settings.client_timeout_seconds),
        limit_concurrency=connection_limit(),
        timeout_keep_alive=5,  # an idle kept-alive connection; a trickled head meets the guard's deadline
        timeout_graceful_shutdown=5,
        log_config=LOG_CONFIG,
        log_level="info",
        # uvicorn would otherwise take X-Forwarded-For from any peer at 127.0.0.1 as the client's
        # address, and a client could name itself past its run limit. Only the app reads that
        # header, and only from the proxies MODELTERMS_TRUSTED_PROXIES names.
        proxy_headers=False,
    )
    server = DrainingServer(config)
    server.run()
    return 0 if server.started else 3


def unwritable(data_dir: Path) -> str | None:
    """Why this process cannot write its data folder, and the fix; None if it can. SQLite says
    only "unable to open database file", typically for a bind-mounted host folder that belongs to
    the host's user while the image runs as uid 10001."""
    existing = next(folder for folder in [data_dir, *data_dir.parents] if folder.exists())
    if os.access(existing, os.W_OK | os.X_OK):
        return None
    uid, gid = os.getuid(), os.getgid()
    return (
        f"modelterms: {existing} is not writable by this process, which runs as uid {uid} (gid {gid}). "
        f"Give that user the folder (for a host folder mounted there: `sudo chown -R {uid}:{gid} <host folder>`), "
        "or mount a named volume instead (`-v modelterms_data:/data`: Docker and Podman create it owned by "
        "the image's user), or point MODELTERMS_DATA_DIR at a folder it can write."
    )


def worker(args: argparse.Namespace) -> int:
    """Train runs that web replicas admit through Redis; prepares missing artifacts first."""
    import logging

    settings = Settings()
    if not settings.redis_url:
        print("modelterms: a worker needs MODELTERMS_REDIS_URL (redis://host:6379/0)", file=sys.stderr)
        return 2
    if prepare(args) != 0:
        return 1
    from app.playground.redis.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return run_worker(settings, args.id)


def check(_args: argparse.Namespace) -> int:
    from app.demos import load_demos
    from app.glossary.content import load_glossary

    settings = Settings()
    glossary = load_glossary(settings.content_dirs, load_demos(settings.extra_demo_modules))
    for problem in glossary.problems:
        print(problem)
    if glossary.problems:
        print(f"{len(glossary.problems)} problem(s) in content.", file=sys.stderr)
        return 1
    formulas = sum(t.formulas for t in glossary.terms.values())
    print(f"ok: {len(glossary.terms)} terms in {len(glossary.categories)} categories, {formulas} formulas.")
    return 0


def prepare(_args: argparse.Namespace) -> int:
    """Build every artifact a demo declares that is missing (or not whole), with a progress bar."""
    from app.demos import load_demos
    from app.demos.artifacts import ArtifactStore

    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # torch's; no builder needs NumPy
    settings = Settings()
    store = ArtifactStore(settings.artifacts_dir)
    artifacts = {a.filename: a for demo in load_demos(settings.extra_demo_modules).values() for a in demo.artifacts}
    for artifact in artifacts.values():
        if store.ready(artifact):
            print(f"ok: {artifact.title} ({store.path(artifact)})")
            continue
        print(f"preparing {artifact.title}, one time ({artifact.filename})")
        try:
            store.build(artifact, _progress_bar)
        except Exception as error:  # a failed build names itself; the next prepare retries
            print(f"\nmodelterms: could not prepare {artifact.title}: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
        print(f"\nok: {artifact.title} ({store.path(artifact)})")
    return 0


def _progress_bar(done: int, total: int, width: int = 40) -> None:
    # Redrawn in place on a terminal; in a log (CI, docker build) only every tenth is printed.
    if not sys.stdout.isatty() and done not in (total, *range(0, total, max(total // 10, 1))):
        return
    filled = width * done // max(total, 1)
    end = "\r" if sys.stdout.isatty() else "\n"
    print(f"  [{'#' * filled}{'.' * (width - filled)}] step {done} of {total}", end=end, flush=True)


class _SettingsHelp(TypedDict):
    """How a command that reads the settings ends its --help: the environment variables, as laid out."""

    epilog: str
    formatter_class: type[argparse.HelpFormatter]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelterms", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    settings_help: _SettingsHelp = {"epilog": _settings_help(), "formatter_class": argparse.RawTextHelpFormatter}
    serve_cmd = commands.add_parser("serve", help="run the web server", **settings_help)
    serve_cmd.add_argument("--host", help="listen address (MODELTERMS_HOST)")
    serve_cmd.add_argument("--port", type=int, help="listen port (MODELTERMS_PORT)")
    serve_cmd.add_argument("--reload", action="store_true", help="restart on code, template or content changes")
    serve_cmd.set_defaults(run=serve)
    worker_cmd = commands.add_parser(
        "worker", help="train runs from Redis (MODELTERMS_REDIS_URL), on this host's CPU or GPU", **settings_help
    )
    worker_cmd.add_argument("--id", help="this worker's name in Redis [host-pid-random]")
    worker_cmd.set_defaults(run=worker)
    check_cmd = commands.add_parser("check", help="validate all content; exits non-zero on problems")
    check_cmd.set_defaults(run=check)
    prepare_cmd = commands.add_parser("prepare", help="build the artifacts the demos need (base models); idempotent")
    prepare_cmd.set_defaults(run=prepare)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
