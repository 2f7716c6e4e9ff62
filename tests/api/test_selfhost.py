"""Self-hosting: the Dockerfile and compose.yaml agree with the app, the container's command works
outside a container, and SIGTERM ends running runs as `cancelled` (stored) within 10 s.

No Docker engine is needed: the files are parsed, and the container's command and environment
are run as subprocesses. Every wait is bounded (subprocess timeouts and deadlines): these tests
fail, never hang.
"""

from __future__ import annotations

import fnmatch
import importlib
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.settings import ROOT, Settings
from tests.conftest import TEST_DEMOS, make_settings, running_app
from tests.support import cluster

BIN = Path(sys.executable).parent  # the virtual environment that runs the tests (.venv/bin)
NOBODY = 65534  # uid and gid of nobody / nogroup
START_SECONDS = 40  # the server answers /healthz in about a second; workers import torch in ~2-5 s


# --- reading the Dockerfile, .dockerignore and compose.yaml -------------------------------------
@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"the stage {self.name or self.image} has no {keyword}"
        return found[-1]

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """The environment after every ENV of this stage, `$VAR` expanded as Docker does."""
        env = dict(base)
        for args in self.all("ENV"):
            words = shlex.split(args)
            pairs = (w.split("=", 1) for w in words) if "=" in words[0] else [(words[0], " ".join(words[1:]))]
            before = dict(env)
            for key, value in pairs:
                env[key] = expand(value, before)
        return env


def expand(value: str, env: dict[str, str]) -> str:
    """`$VAR` and `${VAR}` replaced by their values in `env`, as Docker expands an ENV value."""
    return re.sub(r"\$\{?(\w+)\}?", lambda match: env.get(match.group(1), ""), value)


def parse_dockerfile(path: Path) -> list[Stage]:
    lines: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        if raw.strip().startswith("#") or (not pending and not raw.strip()):
            continue  # comments, also between continuation lines, are dropped as Docker does
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1]
            continue
        lines.append(pending + raw)
        pending = ""
    stages: list[Stage] = []
    for line in lines:
        keyword, _, args = line.strip().partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, args))
    return stages


def exec_form(args: str) -> list[str]:
    command = json.loads(args)
    assert isinstance(command, list) and all(isinstance(w, str) for w in command), args
    return command


@dataclass
class Image:
    """What the default build target of the Dockerfile runs: its command, environment, files."""

    stage: Stage
    stages: list[Stage]
    env: dict[str, str]
    cmd: list[str]
    healthcheck: list[str]
    workdir: str


def read_image() -> Image:
    stages = parse_dockerfile(ROOT / "Dockerfile")
    final = stages[-1]
    health = final.last("HEALTHCHECK")
    assert " CMD " in f" {health} ", health
    return Image(
        stage=final,
        stages=stages,
        env=final.env({"PATH": "/usr/local/bin:/usr/bin:/bin"}),
        cmd=exec_form(final.last("CMD")),
        healthcheck=exec_form(health.split(" CMD ", 1)[1] if not health.startswith("CMD ") else health[4:]),
        workdir=final.last("WORKDIR"),
    )


def cli_port(command: list[str], env: dict[str, str]) -> int:
    """The port `modelterms serve` listens on: --port, else MODELTERMS_PORT, else the default."""
    if "--port" in command:
        return int(command[command.index("--port") + 1])
    return int(env.get("MODELTERMS_PORT", Settings.model_fields["port"].default))


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (the last matching rule wins,
    and a rule that matches a folder matches everything in it)."""
    excluded = False
    parts = path.split("/")
    for rule in patterns:
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        names = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(p, name) for p in prefixes for name in names):
            excluded = not negate
    return excluded


def read_compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def app_services(compose: dict) -> dict[str, dict]:
    """The services that run the app's image (not the `scale` profile's Redis and proxy)."""
    return {n: s for n, s in compose["services"].items() if str(s.get("image", "")).startswith("modelterms:")}


def serving_services(compose: dict) -> dict[str, dict]:
    """The app services that publish the app's port themselves (not the replicas behind the proxy)."""
    return {n: s for n, s in app_services(compose).items() if s.get("ports")}


def service_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def container_port(mapping: str | int | dict) -> int:
    if isinstance(mapping, dict):
        return int(mapping["target"])
    return int(str(mapping).split(":")[-1].split("/")[0])


def volume_targets(service: dict) -> dict[str, str]:
    """Container path -> the named volume or host path mounted there."""
    targets = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        targets[target] = source
    return targets


# --- (a) the files agree with the app ------------------------------------------------------------
def test_the_image_serves_on_the_default_port_the_compose_file_publishes() -> None:
    image = read_image()
    exposed = {int(p.split("/")[0]) for args in image.stage.all("EXPOSE") for p in args.split()}
    port = Settings.model_fields["port"].default
    assert exposed == {port}
    assert cli_port(image.cmd, image.env) == port
    for name, service in serving_services(read_compose()).items():
        assert [container_port(p) for p in service["ports"]] == [port], name


def test_the_command_is_a_real_cli_command_and_its_help_lists_every_setting() -> None:
    cmd = read_image().cmd
    assert cmd[:2] == ["modelterms", "serve"] and cmd[cmd.index("--host") + 1] == "0.0.0.0"
    done = subprocess.run(
        [str(BIN / cmd[0]), cmd[1], "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    for option in (w for w in cmd[2:] if w.startswith("--")):
        assert option in done.stdout
    for name in Settings.model_fields:
        assert f"MODELTERMS_{name.upper()}" in done.stdout


def test_the_healthcheck_asks_a_route_that_answers(client) -> None:
    image = read_image()
    assert image.healthcheck[0] == "python", "the slim image has python, not curl"
    path = re.search(r"http://127\.0\.0\.1:[^/]+(/[\w/-]*)", " ".join(image.healthcheck)).group(1)
    response = client.get(path)
    assert response.status_code == 200 and response.json()["status"] == "ok"


# The flags each instruction takes in Docker Engine 20.10's classic builder (Debian 12 ships
# docker.io 20.10) and in Podman 4.3's buildah: newer ones (HEALTHCHECK --start-interval, Engine 25;
# RUN --mount, COPY --chmod or --link, BuildKit only) are refused there with "flag provided but not
# defined", or need BuildKit.
FLAGS_IN_ENGINE_20_10 = {
    "FROM": {"platform"},
    "COPY": {"from", "chown"},
    "ADD": {"chown"},
    "HEALTHCHECK": {"interval", "timeout", "start-period", "retries"},
}


def test_the_dockerfile_uses_no_flag_newer_than_docker_engine_20_10() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert not re.match(r"#\s*syntax\s*=", text, re.I), "a syntax directive asks for a BuildKit frontend"
    stages = parse_dockerfile(ROOT / "Dockerfile")
    instructions = [instruction for stage in stages for instruction in stage.instructions]
    assert ("HEALTHCHECK", stages[-1].last("HEALTHCHECK")) in instructions
    for keyword, args in instructions:
        flags = [w.split("=")[0][2:] for w in itertools.takewhile(lambda w: w.startswith("--"), args.split())]
        unknown = set(flags) - FLAGS_IN_ENGINE_20_10.get(keyword, set())
        assert not unknown, f"{keyword} --{', --'.join(sorted(unknown))}: not in Docker Engine 20.10 or Podman 4.3"
        assert "<<" not in args or keyword != "RUN", "a heredoc needs BuildKit"


def test_the_healthcheck_reads_healthy_soon_after_start() -> None:
    """Without --start-interval (Engine 25+) the first probe comes one interval after the start:
    the interval bounds how long a fresh container reads 'starting' after /healthz answers (~3 s)."""
    options = dict(re.findall(r"--([\w-]+)=(\S+)", read_image().stage.last("HEALTHCHECK").split(" CMD ", 1)[0]))
    assert options["interval"].endswith("s") and float(options["interval"][:-1]) <= 10


# --- ready means ready: /healthz is 200 while the process lives, `ready` once runs start at once ---
def test_healthz_answers_not_ready_while_the_workers_start_then_ready(tmp_path) -> None:
    slow = [*TEST_DEMOS, "tests.support.slow_worker_start"]  # each worker takes 3 s more to start
    with running_app(tmp_path, workers=2, extra_demo_modules=slow) as client:
        starting = client.get("/healthz")
        assert starting.status_code == 200, "liveness: the process answers while its workers start"
        health = starting.json()
        assert health["ready"] is False and health["workers_ready"] < 2, health
        assert health["waiting_for"] == [
            f"training workers: {health['workers_ready']} of 2 ready (each loads PyTorch when it starts)"
        ]
        cluster.wait_until(lambda: client.get("/healthz").json()["ready"], 60, "the workers to start")
        health = client.get("/healthz").json()
        assert health["waiting_for"] == [] and health["workers_ready"] == 2 and health["status"] == "ok"


def test_a_redis_replica_is_ready_once_redis_answers_and_a_worker_is_connected(tmp_path, redis_url) -> None:
    down = make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{cluster.free_port()}/0")
    with TestClient(create_app(down)) as client:
        health = client.get("/healthz").json()
        assert health["ready"] is False and health["waiting_for"][0].startswith("Redis: unreachable"), health
    settings = make_settings(tmp_path, redis_url=redis_url, heartbeat_seconds=0.2)
    with TestClient(create_app(settings)) as client:
        health = client.get("/healthz").json()
        assert health["ready"] is False, health
        assert health["waiting_for"] == ["a training worker: none is connected (start `modelterms worker`)"]
        with cluster.workers(settings, 1):
            cluster.wait_until(lambda: client.get("/healthz").json()["ready"], 10, "the replica to see the worker")
        cluster.wait_until(lambda: not client.get("/healthz").json()["ready"], 10, "the replica to see it leave")


def test_every_modelterms_variable_is_a_setting_with_a_valid_value(monkeypatch) -> None:
    image = read_image()
    sources = {"Dockerfile": image.env} | {
        f"compose.yaml {name}": service_env(service) for name, service in read_compose()["services"].items()
    }
    for source, env in sources.items():
        ours = {k: v for k, v in env.items() if k.startswith("MODELTERMS_")}
        for key in ours:
            assert key.removeprefix("MODELTERMS_").lower() in Settings.model_fields, f"{source}: {key}"
        with monkeypatch.context() as patch:
            for key, value in (image.env | ours).items():
                if key.startswith("MODELTERMS_"):
                    patch.setenv(key, value)
            Settings()  # raises on a value the app would refuse


def test_the_data_volume_holds_the_data_dir_and_the_root_filesystem_can_be_read_only() -> None:
    image = read_image()
    data_dir = image.env["MODELTERMS_DATA_DIR"]
    volumes = {v for args in image.stage.all("VOLUME") for v in json.loads(args)}
    assert data_dir in volumes
    assert image.env.get("PYTHONDONTWRITEBYTECODE") == "1"
    user = image.stage.last("USER").split(":")[0]
    assert user not in ("root", "0")
    compose = read_compose()
    for name, service in app_services(compose).items():
        mounts = volume_targets(service)
        assert mounts.get(data_dir) in compose["volumes"], f"{name}: a named volume at {data_dir}"
        assert service.get("read_only") is True, name
        assert image.env.get("TMPDIR", "/tmp") in service["tmpfs"], name


def test_compose_content_dirs_start_with_the_built_in_terms() -> None:
    image = read_image()
    copies = [args.split() for args in image.stage.all("COPY") if not args.startswith("--")]
    assert ["content", "./content"] in copies
    for name, service in app_services(read_compose()).items():
        dirs = json.loads(service_env(service)["MODELTERMS_CONTENT_DIRS"])
        assert dirs[0] == f"{image.workdir}/content", name
        extra = [d for d in dirs[1:] if d in volume_targets(service)]
        assert extra, f"{name}: the extra terms folder is a mount"


def test_the_gpu_profile_reserves_an_nvidia_gpu_and_trains_on_cuda() -> None:
    services = read_compose()["services"]
    gpu = [s for s in services.values() if "gpu" in s.get("profiles", [])]
    assert len(gpu) == 1
    (service,) = gpu
    assert service_env(service)["MODELTERMS_DEVICE"] == "cuda"
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices)
    flavor = service["build"]["args"]["TORCH_FLAVOR"]
    assert "cu" in flavor and "://" not in flavor  # a flavor; index URLs live in the Dockerfile only
    cpu = [s for s in services.values() if not s.get("profiles")]
    assert len(cpu) == 1 and "args" not in cpu[0].get("build", {}), "plain `up` builds the CPU image"
    arg_defaults = dict(a.split("=", 1) for a in read_image().stage.all("ARG") if "=" in a)
    assert arg_defaults["TORCH_FLAVOR"] == "cpu"
    assert arg_defaults["TORCH_INDEX"] == "https://download.pytorch.org/whl/${TORCH_FLAVOR}"


def test_the_node_stage_copies_what_the_makefile_copies() -> None:
    def copies(recipe: str) -> set[tuple[str, str]]:
        pairs = set()
        for command in re.split(r"&&|\n", recipe):
            words = command.split()
            if words[:1] == ["cp"]:
                pairs |= {(source, words[-1].rstrip("/")) for source in words[1:-1]}
        return pairs

    makefile = (ROOT / "Makefile").read_text()
    rule = re.search(r"^\$\(VENDORED\):.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    node = next(s for s in read_image().stages if s.image.startswith("node:"))
    from_makefile = copies(rule)
    assert from_makefile and copies("\n".join(node.all("RUN"))) == from_makefile
    assert "/static/vendor" in " ".join(read_image().stage.all("COPY"))


def test_the_build_context_has_what_the_dockerfile_copies_and_nothing_heavy() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for stage in read_image().stages:
        for args in stage.all("COPY"):
            if not args.startswith("--from"):
                for source in args.split()[:-1]:
                    assert not dockerignored(source, patterns), source
    for heavy in [".git", ".venv/bin/python", "node_modules/uplot", "static/vendor/htmx.min.js", "data"]:
        assert dockerignored(heavy, patterns), heavy
    assert dockerignored("app/__pycache__/main.cpython-311.pyc", patterns)
    assert not dockerignored("static/css/site.css", patterns)


def test_the_readme_documents_every_setting() -> None:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `MODELTERMS_")]
    assert rows, "README.md has no settings table (rows starting with | `MODELTERMS_...`)"
    documented = {re.match(r"\| `MODELTERMS_(\w+)`", row).group(1).lower() for row in rows}
    assert documented == set(Settings.model_fields)


# --- set-up on machines unlike ours --------------------------------------------------------------
def test_make_jstest_runs_the_js_tests_on_the_node_that_set_up_puts_in_the_virtual_environment(tmp_path) -> None:
    """A fresh Debian 12 or Ubuntu 24.04 has no Node.js, or Node 18, too old for the tests: with
    nothing on PATH but make, `make jstest` must run them on the virtual environment's Node."""
    version = subprocess.run([BIN / "node", "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= 22, version.stdout
    only_make = tmp_path / "bin"
    only_make.mkdir()
    (only_make / "make").symlink_to(shutil.which("make"))
    done = subprocess.run(
        # -o: the virtual environment counts as set up (`make test` has just done that).
        ["make", "--no-print-directory", "-o", ".venv/.installed", "jstest"],
        cwd=ROOT,
        env={"PATH": str(only_make), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    passed = re.search(r"^ℹ pass (\d+)$", done.stdout, re.M)
    assert passed and int(passed.group(1)) > 0 and re.search(r"^ℹ fail 0$", done.stdout, re.M), done.stdout


def test_the_readme_asks_for_python_and_make_only() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "On a fresh machine (Python 3.11+ and make), two commands do all set-up:" in readme
    makefile = (ROOT / "Makefile").read_text()
    for tool in ("npm", "node"):
        bare = re.findall(rf"^\t(?:@?\s*)(?:\S+=\S+\s+)*{tool}\b", makefile, re.M)
        assert not bare, f"a recipe runs the system's {tool}: {bare}"


# --- running the container's command outside a container ------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temporary folder any user may enter (pytest's tmp_path is private to its owner)."""
    path = Path(tempfile.mkdtemp(prefix="modelterms-selfhost-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in [path, *path.rglob("*")]:
            with suppress(OSError):
                if sub.is_dir() and not sub.is_symlink():
                    sub.chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def read_only_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    for path in sorted(target.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    target.chmod(0o555)
    return target


PROBE = [str(BIN / "python"), "-c", "import app.cli, torch"]


def as_nobody() -> tuple[list[str], str]:
    """A command prefix that drops root to nobody, or ([], why not)."""
    if os.geteuid() != 0:
        return [], f"already running as uid {os.geteuid()}"
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return [], "setpriv is not installed"
    prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(
        # The interpreter must also start the workers' interpreters (multiprocessing spawns them).
        [*prefix, str(BIN / "python"), "-c", f"import subprocess; subprocess.run({PROBE!r}, check=True)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        check=False,
    )
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return [], f"the virtual environment is not usable by nobody ({reason})"
    return prefix, f"uid {NOBODY} (nobody)"


class Server:
    """`modelterms serve` in a subprocess (its own session), logging to a file."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, workers: bool = True) -> dict:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            with suppress(httpx.HTTPError, ValueError):
                health = httpx.get(f"{self.base}/healthz", timeout=2).json()
                if not workers or health["workers_ready"] == health["workers"]:
                    return health
            time.sleep(0.05)
        raise AssertionError(f"the server was not ready in {START_SECONDS} s:\n{self.tail()}")

    def stop(self) -> None:
        """Kill whatever is left of the server and its workers (they share its session)."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def start_run(server: Server, demo: str, **params) -> str:
    response = httpx.post(f"{server.base}/api/demos/{demo}/runs", json=params, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def iter_events(response: httpx.Response, deadline: float) -> Iterator[dict]:
    event: dict = {}
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise AssertionError("the event stream did not end in time")
        if line.startswith(("id: ", "event: ", "data: ")):
            key, _, value = line.partition(": ")
            event[key] = json.loads(value) if key == "data" else value
        elif line == "" and "event" in event:
            yield event
            event = {}


def stored_status(data_dir: Path, run_id: str) -> str | None:
    with sqlite3.connect(data_dir / "runs.sqlite3", timeout=5) as db:
        row = db.execute("SELECT status FROM run_records WHERE id = ?", (run_id,)).fetchone()
    return row[0] if row else None


def test_the_container_command_serves_and_trains_with_a_read_only_app_and_content() -> None:
    image = read_image()
    prefix, user = as_nobody()
    if not prefix:
        print(f"\nnot dropping to a non-root user: {user}")
    with scratch_dir() as scratch:
        data = scratch / "data"
        data.mkdir()
        if prefix:
            os.chown(data, NOBODY, NOBODY)
        content = read_only_copy(ROOT / "content", scratch / "content")
        port = free_port()
        venv = image.env.get("VIRTUAL_ENV", "")
        path = [str(BIN) if p == f"{venv}/bin" else p for p in image.env["PATH"].split(":")]
        env = image.env | {
            "PATH": ":".join(path),
            "VIRTUAL_ENV": str(BIN.parent),
            "MODELTERMS_DATA_DIR": str(data),
            "MODELTERMS_CONTENT_DIRS": json.dumps([str(content)]),
            "MODELTERMS_PORT": str(port),
            "MODELTERMS_WORKERS": "1",
        }
        assert image.env["MODELTERMS_DATA_DIR"] != str(data)  # the image sets it; the test moves it
        server = Server([*prefix, *image.cmd], env, port, scratch / "server.log")
        try:
            server.wait_ready(workers=False)
            health = subprocess.run(
                [*prefix, *image.healthcheck], env=env, capture_output=True, timeout=10, check=False
            )
            assert health.returncode == 0, health.stderr
            health_json = server.wait_ready()
            assert health_json["device"] == "cpu", (health_json, server.tail())
            assert httpx.get(f"{server.base}/terms/gradient-descent", timeout=10).status_code == 200
            run_id = start_run(server, "gradient-descent", steps=20, pace=0)
            with httpx.stream("GET", f"{server.base}/api/runs/{run_id}/events", timeout=20) as response:
                events = list(iter_events(response, time.monotonic() + 30))
            assert events[-1]["event"] == "end", events[-1]
            assert events[-1]["data"]["status"] == "done", events[-1]["data"]
        finally:
            server.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                server.process.wait(15)
            server.stop()
        assert stored_status(data, run_id) == "done"  # read once the server let go of the file (it holds it alone)
        assert not list(content.rglob("__pycache__"))


def serve_as_another_user(data: Path, stderr: Path) -> tuple[int, int]:
    """`modelterms serve` on `data`, in a fork of this process that runs as nobody when we are root
    (root writes any folder): (its uid, its exit status). A fork reads no code from disk once what
    it imports is imported here (the virtual environment may live in root's home, closed to nobody)."""
    uid = NOBODY if os.geteuid() == 0 else os.geteuid()
    for module in ("uvicorn", "app.server", "app.playground.embedded.store"):  # `serve` imports them when it runs
        importlib.import_module(module)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status and stderr
        status = 70
        sys.stderr = stderr.open("w", buffering=1)  # pytest has its own sys.stderr
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            os.environ["MODELTERMS_DATA_DIR"] = str(data)
            status = main(["serve", "--port", str(free_port())])
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    return uid, os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])


def test_a_data_folder_it_cannot_write_is_named_with_the_uid_and_the_fix() -> None:
    with scratch_dir() as scratch:
        data = scratch / "data"
        data.mkdir()
        data.chmod(0o555)  # as a host folder of another user, bind-mounted at /data
        uid, status = serve_as_another_user(data, scratch / "stderr")
        stderr = (scratch / "stderr").read_text()
    assert status == 2, stderr
    assert "unable to open database file" in stderr
    assert f"{data} is not writable by this process, which runs as uid {uid}" in stderr
    assert f"chown -R {uid}:" in stderr and "modelterms_data:/data" in stderr


@dataclass
class Watcher:
    """An SSE client on a thread that records every event of one run."""

    url: str
    events: list[dict] = field(default_factory=list)
    error: BaseException | None = None
    training: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        try:
            with httpx.stream("GET", self.url, timeout=20) as response:
                for event in iter_events(response, time.monotonic() + 60):
                    self.events.append(event)
                    if event["event"] == "metrics":
                        self.training.set()
        except BaseException as error:  # reported by the test's assertions
            self.error = error
        finally:
            self.training.set()


@contextmanager
def serving(**settings: str) -> Iterator[tuple[Server, Path]]:
    with scratch_dir() as scratch:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODELTERMS_")}
        env |= {
            "PATH": f"{BIN}:{env.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env |= {"MODELTERMS_DATA_DIR": str(scratch / "data"), "MODELTERMS_WORKERS": "1"}
        env |= {f"MODELTERMS_{k.upper()}": v for k, v in settings.items()}
        command = [str(BIN / "modelterms"), "serve", "--port", str(port)]
        server = Server(command, env, port, scratch / "server.log")
        try:
            server.wait_ready()
            yield server, scratch / "data"
        finally:
            server.stop()


def sigterm_and_time_exit(server: Server, signum: int = signal.SIGTERM) -> float:
    """SIGTERM to the server alone (as `docker stop` through --init; the default), or SIGINT to its whole
    process group (as Ctrl+C in a terminal): a drained stop exits 0, not by the signal."""
    started = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(server.process.pid, signum)
    else:
        server.process.send_signal(signum)
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running 10 s after {signum.name}:\n{server.tail()}") from None
    assert server.process.returncode == 0, f"exit status {server.process.returncode}:\n{server.tail()}"
    return time.monotonic() - started


def assert_stop_cancels_and_exits(server: Server, data: Path, run_id: str, signum: int = signal.SIGTERM) -> None:
    """A stop signal with a watched run in flight: exit 0 within 10 s, the run stored as
    cancelled, and the open stream ended by the run's `end` event instead of being cut off."""
    watcher = Watcher(f"{server.base}/api/runs/{run_id}/events")
    assert watcher.training.wait(15) and watcher.error is None, watcher.error
    seconds = sigterm_and_time_exit(server, signum)
    watcher.thread.join(5)
    print(f"\nexited {seconds:.1f} s after {signum.name}")
    assert stored_status(data, run_id) == "cancelled", server.tail()
    assert watcher.error is None, watcher.error
    assert watcher.events[-1]["event"] == "end", watcher.events[-1]
    assert watcher.events[-1]["data"]["status"] == "cancelled"


def test_ctrl_c_on_make_run_stops_the_server_cleanly_and_make_reports_no_error() -> None:
    with scratch_dir() as scratch:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODELTERMS_")}
        env |= {"MODELTERMS_PORT": str(port), "MODELTERMS_DATA_DIR": str(scratch / "data"), "MODELTERMS_WORKERS": "1"}
        # -o: the virtual environment counts as set up (`make test` has just done that).
        command = ["make", "--no-print-directory", "-o", ".venv/.installed", "run"]
        server = Server(command, env, port, scratch / "make.log")
        try:
            server.wait_ready()
            os.killpg(server.process.pid, signal.SIGINT)  # what Ctrl+C in the terminal sends
            server.process.wait(15)
        finally:
            server.stop()
        output = server.tail(400)
    assert "Finished server process" in output, output
    assert "make: ***" not in output, output  # make printed this when the server died by the signal


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_cancels_a_watched_run_stores_it_and_exits_0_within_10_s(signum: int) -> None:
    with serving() as (server, data):
        run_id = start_run(server, "gradient-descent", steps=5000, pace=20)  # would take ~4 minutes
        assert_stop_cancels_and_exits(server, data, run_id, signum)
        assert "Exception in ASGI application" not in server.tail(200)


def test_sigterm_exits_0_within_10_s_even_when_a_run_is_stuck_inside_a_step() -> None:
    with serving(extra_demo_modules='["tests.support.demos"]') as (server, data):
        run_id = start_run(server, "counter", steps=100, block_at=5)  # sleeps an hour at step 5
        assert_stop_cancels_and_exits(server, data, run_id)


def test_the_scale_profile_runs_redis_web_replicas_behind_an_sse_proxy_and_workers() -> None:
    compose = read_compose()
    scale = {n: s for n, s in compose["services"].items() if "scale" in s.get("profiles", [])}
    redis = next(s for s in scale.values() if str(s.get("image", "")).startswith("redis:"))
    assert redis["command"][-2:] == ["--appendonly", "yes"] and volume_targets(redis)["/data"] in compose["volumes"]
    web = next(s for s in scale.values() if not s.get("command") and s.get("image", "").startswith("modelterms:"))
    workers = [s for s in app_services(compose).values() if s.get("command", [])[:2] == ["modelterms", "worker"]]
    assert web["deploy"]["replicas"] == 2 and not web["ports"]
    assert {"cpu", "cuda"} == {s["image"].split(":")[1] for s in workers}
    for service in [web, *workers]:
        assert service_env(service)["MODELTERMS_REDIS_URL"].startswith("redis://")
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    proxy = next(s for s in scale.values() if str(s.get("image", "")).startswith("nginx:"))
    assert [container_port(p) for p in proxy["ports"]] == [Settings.model_fields["port"].default]
    conf_path = next(v.split(":")[0] for v in proxy["volumes"] if "nginx" in v)
    conf = (ROOT / conf_path).read_text()
    for directive in ("proxy_buffering off;", "proxy_read_timeout 1h;", "proxy_http_version 1.1;", "X-Forwarded-For"):
        assert directive in conf
    assert "server web:8000;" in conf
    trusted = json.loads(service_env(web)["MODELTERMS_TRUSTED_PROXIES"])
    assert Settings(trusted_proxies=trusted).is_trusted_proxy("172.18.0.5")  # a compose network address
