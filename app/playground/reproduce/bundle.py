"""Assemble a run's script: the project's own modules, whole, plus the run.

The script carries, as text served to `import` (see `bootstrap`):

- the demo's training module (`Demo.train`, 'app.training.<name>:train');
- every project module that module imports, and theirs in turn (the app.ml modules, the
  recipes of prepared artifacts), plus the builder modules of the demo's artifacts;
- the runtime (`runtime`: replay, CSV, the artifact check) and what it imports;
- the data files beside a module that reads them through `__file__` (app/ml/corpora/).

Modules are read as source, never imported, so the web process stays free of torch. A module
the script carries may import the standard library, torch and other such project modules;
imports under `if TYPE_CHECKING:` (a training module's `Params` annotation) are not followed.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from app.demos.base import Demo
from app.playground.reproduce.record import RunRecord, columns_for

RUNTIME = "app.playground.reproduce.runtime"
BOOTSTRAP = "app.playground.reproduce.bootstrap"
THIRD_PARTY = {"torch"}
"""What a script may import beyond the standard library: its only requirement."""


class Conflict(ValueError):
    """The demo's code cannot travel in a script (it imports what the script does not carry)."""


@cache
def module_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise Conflict(f"cannot find the source of {module}")
    return Path(spec.origin)


def module_source(module: str) -> str:
    return module_path(module).read_text()


@cache
def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


@cache  # a module's source does not change under a running server, and parsing it is most of a script's cost
def imports_of(module: str) -> tuple[str, ...]:
    """The modules `module` imports anywhere in its source (inside functions too), but not
    under `if TYPE_CHECKING:`; `from app.ml import charlm` imports app.ml.charlm."""
    found: list[str] = []
    pending: list[ast.AST] = [ast.parse(module_source(module))]
    while pending:
        node = pending.pop()
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            found += [
                f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module for a in node.names
            ]
        pending.extend(ast.iter_child_nodes(node))
    return tuple(found)


def carried_modules(roots: list[str]) -> list[str]:
    """`roots` and every project module they import, transitively, sorted. Conflict names the
    first import the script could not satisfy."""
    carried: set[str] = set()
    pending = list(roots)
    while pending:
        module = pending.pop()
        if module in carried:
            continue
        carried.add(module)
        for imported in imports_of(module):
            top = imported.split(".")[0]
            if top == "app":
                if imported not in carried and module_source(imported).strip():
                    pending.append(imported)
            elif top not in THIRD_PARTY and top not in sys.stdlib_module_names:
                raise Conflict(f"{module} imports {imported}; the script depends only on torch")
    return sorted(carried)


def data_files(modules: list[str]) -> dict[str, str]:
    """Path (from the folder that holds `app`) -> text of every data file in the folders of the
    carried modules that read files beside themselves (their source names `__file__`)."""
    files: dict[str, str] = {}
    for module in modules:
        if "__file__" not in module_source(module):
            continue
        origin = module_path(module)
        root = origin.parents[module.count(".")]
        for path in sorted(origin.parent.rglob("*")):
            if path.is_file() and path.suffix not in (".py", ".pyc"):
                try:
                    files[path.relative_to(root).as_posix()] = path.read_bytes().decode("utf-8")
                except UnicodeDecodeError as error:
                    raise Conflict(f"{module} reads {path.name}, which is not text") from error
    return files


def build_script(demo: Demo, run: RunRecord, checksums: dict[str, str | None] | None = None) -> str:
    """The script of `run`. `checksums`: the server's SHA-256 of each prepared artifact's file
    (None where it has none), which the script checks what it rebuilds or fetches against."""
    if not isinstance(demo.train, str):
        raise Conflict(f"{demo.name}'s training is not a module of its own ('app.training.<name>:train')")
    checksums = {a.filename: (checksums or {}).get(a.filename) for a in demo.artifacts}
    roots = [demo.train.partition(":")[0], RUNTIME, *(a.builder.partition(":")[0] for a in demo.artifacts)]
    modules = carried_modules(roots)
    replay = {
        "train": demo.train,
        "params": demo.trained(demo.shown(run.params), {}),  # the demo's own params, never a withheld text
        "changes": run.training_changes(),
        "columns": columns_for(demo, run),
        "stop_after_step": run.stop_after(),
        "loss_bound": demo.loss_bound if math.isfinite(demo.loss_bound) else None,
        "machine_metrics": sorted(demo.machine_metrics),
        "artifact_sha256": checksums,
    }
    parts = [
        f'"""{header(demo, run, checksums)}\n"""',
        _without_docstring(module_source(BOOTSTRAP)),
        "# --- the project's modules this run needs, verbatim ---------------------------------------",
        "MODULES: dict[str, str] = {}",
        *(f"MODULES[{module!r}] = {_text_literal(module_source(module))}" for module in modules),
        "# --- the data files they read beside their source --------------------------------------------",
        "FILES: dict[str, str] = {}",
        *(f"FILES[{name!r}] = {_text_literal(text)}" for name, text in data_files(modules).items()),
        "# --- the run ----------------------------------------------------------------------------------",
        f"REPLAY = {_literal(replay)}",
        "",
        'if __name__ == "__main__":',
        "    install(MODULES, FILES)",
        f"    from {RUNTIME} import main",
        "",
        "    main(REPLAY, __doc__.splitlines()[0])",
    ]
    return "\n\n".join(parts) + "\n"


def script_name(run_id: str) -> str:
    """The file name the server gives a run's script (its docstring says to run it by this name)."""
    return f"modelterms-{run_id}.py"


def header(demo: Demo, run: RunRecord, checksums: dict[str, str | None]) -> str:
    """The script's docstring: what it trains, what it needs, what to expect."""
    lines = [
        f"Reproduce ModelTerms run {run.id}: {demo.title} (demo '{demo.name}').",
        "",
        "Trains the same model with the same params and seed on the CPU, applies the run's live",
        "changes at the steps they applied from on the server, and prints every metric point as",
        "CSV, one line per point. Needs only PyTorch:",
        "",
        f"    pip install torch=={_torch_version()}   # the server's version: the same numbers",
        f"    python {script_name(run.id)} > points.csv",
        "",
    ]
    for artifact in demo.artifacts:
        digest = checksums.get(artifact.filename)
        check = (
            f"checks that it has the server's SHA-256, {digest}"
            if digest
            else "cannot check it: the server had not prepared it when this script was made"
        )
        lines += [
            f"It starts from a prepared artifact, {artifact.title} ({artifact.filename}). By default the",
            "script builds it from its recipe, as `modelterms prepare` does (one thread, fixed seeds:",
            "the same bytes on the same CPU type and PyTorch version), into ./modelterms-artifacts (or",
            f"--artifacts), and {check}.",
            "With --server URL (this server's address) it fetches the server's own file instead and checks",
            "the same hash. It says on stderr which it did and whether the hash matched.",
            "",
        ]
    if withheld := run.params.get("text_withheld"):
        lines += [
            f"The run trained on a reader's own text ({withheld['chars']:,} characters, SHA-256",
            f"{withheld['sha256']}), which the server did not keep, so it is not included:",
            "this script trains on the demo's own text instead, and its numbers differ from the run's.",
            "Set REPLAY['params']['text'] to the same text to reproduce the run itself.",
            "",
        ]
    if changes := run.training_changes():
        lines.append(f"Live changes: {len(changes)} (in REPLAY['changes'] below).")
    if not run.finished:
        lines.append("The run was still going when this was made: later live changes are not in it.")
    elif run.stop_after() is not None:
        lines.append(f"The run ended '{run.status}' after step {run.last_step}; the script stops there too.")
    if demo.machine_metrics:
        lines += [
            "",
            f"{', '.join(sorted(demo.machine_metrics))} measure the machine (time, speed): yours will differ.",
        ]
    lines += [
        "",
        "On the server's CPU type and PyTorch version every other number is the run's own. On another CPU",
        "type, float32 kernels may round differently: expect the same curves, not the same last digits.",
        "",
        "Carries the project's own modules, whole (app/training, app/ml, the replay runtime), served to",
        "`import` from MODULES below.",
    ]
    return "\n".join(lines)


def _torch_version() -> str:
    try:
        return metadata.version("torch").split("+")[0]
    except metadata.PackageNotFoundError:
        return "<the server's>"


def _without_docstring(source: str) -> str:
    """A module's source after its docstring (the script has its own)."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return "\n".join(source.splitlines()[body[0].end_lineno :]).strip()
    return source.strip()


def _literal(value: object) -> str:
    """JSON values (from the run) as Python source: repr round-trips floats exactly."""
    return repr(value)


def _text_literal(text: str) -> str:
    return f"r'''{text}'''" if "'''" not in text and not text.endswith("\\") else repr(text)
