""" "Reproduce locally": one standalone Python file that trains what a run trained.

The script is assembled from the project's own source, never from a second copy of a demo:

- the demo's `train` function and every module-level definition it reaches (helpers, constants,
  the `Artifact` recipes it loads, in `app.demos.*`), copied flat, in dependency order;
- every `app.ml.*` module those definitions import, embedded whole and served to `import` by a
  small finder, so `from app.ml.charlm import load_model` inside `train` works unchanged; the
  data files beside a module that reads them through `__file__` (app/ml/corpora/) come along,
  written out to a temporary folder that the module's `__file__` points into;
- a replay `Control`: the run's params, its live changes applied before the step they applied
  from on the server (a `control` event's `step`), artifacts built by the same `ArtifactStore`
  code, and the engine's own divergence rule.

The source is read with `ast` from the files, never imported, so the web process stays free of
torch. A demo works here without any per-demo code when:

- `train` is a module-level function, and everything it uses at module level is a function, a
  class or an assignment in an `app.demos` module (or an import of the standard library, torch or
  `app.ml`); the `Params` class is never needed (annotations are not followed), since params
  arrive as a plain namespace: `train` may read attributes of its params, nothing else;
- imports inside functions are of `app.ml`, torch or the standard library;
- it seeds every random generator it uses from its params, and reads live params only through
  `control.params` (then the replay is exact on the same torch build, one thread, on CPU);
- two definitions the script copies never share a name (the generator refuses, see `Conflict`).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from app.demos.base import Demo
from app.playground.reproduce.bundle import Conflict, _is_module, _text_literal, _torch_version, data_files
from app.playground.reproduce.bundle import module_source as _module_source
from app.playground.reproduce.record import RunRecord, columns_for


# --- reading source without importing it ----------------------------------------------------
@cache
def _top_level(module: str) -> dict[str, ast.stmt]:
    """Each name the module binds at top level -> the statement that binds it."""
    bindings: dict[str, ast.stmt] = {}
    for node in ast.parse(_module_source(module)).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            bindings[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        bindings[name.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            bindings[node.target.id] = node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                bindings[(alias.asname or alias.name).split(".")[0]] = node
    return bindings


class _Uses(ast.NodeVisitor):
    """Names a statement reads, and the modules its (inner) imports name; annotations are
    skipped, since `from __future__ import annotations` never evaluates them."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.imports: list[ast.Import | ast.ImportFrom] = []

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node.id not in self.names:
            self.names.append(node.id)

    def visit_arg(self, node: ast.arg) -> None:
        pass  # an argument's annotation

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for child in (*node.decorator_list, *node.args.defaults, *node.args.kw_defaults, *node.body):
            if child is not None:
                self.visit(child)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_Import(self, node: ast.Import) -> None:
        self.imports.append(node)

    visit_ImportFrom = visit_Import


def _imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement loads (`from app.ml import charlm` loads app.ml.charlm)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    return [f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names]


def _is_library(module: str) -> bool:
    return module == "app.ml" or module.startswith("app.ml.")


def _check_import(node: ast.Import | ast.ImportFrom, where: str) -> list[str]:
    """The app.ml modules an inner import needs; anything else from the app cannot be bundled."""
    modules = _imported_modules(node)
    for module in modules:
        if module.split(".")[0] == "app" and not _is_library(module):
            raise Conflict(f"{where} imports {module} inside a function; only app.ml may be imported there")
        if module.split(".")[0] == "pydantic":
            raise Conflict(f"{where} needs pydantic; the script depends only on torch")
    return [m for m in modules if _is_library(m)]


@dataclass
class Assembly:
    """The flat part of the script (definitions copied from app modules) and what it needs."""

    imports: list[str] = field(default_factory=list)
    definitions: list[str] = field(default_factory=list)
    library: set[str] = field(default_factory=set)
    _owner: dict[str, str] = field(default_factory=dict)  # flat name -> "module.name" or import line
    _done: set[str] = field(default_factory=set)

    def need(self, module: str, name: str, as_name: str | None = None) -> None:
        """Copy the definition of `module.name` (and everything it uses) into the flat script."""
        node = _top_level(module).get(name)
        if node is None:
            if hasattr(builtins, name):
                return
            raise Conflict(f"{module} has no top-level {name}")
        if isinstance(node, ast.Import | ast.ImportFrom):
            self._need_import(module, node, name, as_name or name)
            return
        if not self._claim(as_name or name, f"{module}.{name}"):
            return
        uses = _Uses()
        uses.visit(node)
        for inner in uses.imports:
            self.library.update(_check_import(inner, f"{module}.{name}"))
        for used in uses.names:
            if used in _top_level(module) and used != name:
                self.need(module, used)
        self.definitions.append(f"# from {module}\n{_statement_source(module, node)}")
        if as_name and as_name != name:
            self.definitions.append(f"{as_name} = {name}")

    def _claim(self, flat: str, what: str) -> bool:
        """Reserve a flat name for one thing; False when it is already there."""
        owner = self._owner.setdefault(flat, what)
        if owner != what:
            raise Conflict(f"{what} and {owner} would both be called {flat} in the script")
        if what in self._done:
            return False
        self._done.add(what)
        return True

    def _need_import(self, module: str, node: ast.Import | ast.ImportFrom, name: str, flat: str) -> None:
        alias = next(a for a in node.names if (a.asname or a.name).split(".")[0] == name)
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if source == "__future__":
                return
            if source.split(".")[0] == "app" and not _is_library(source) and not _is_module(f"{source}.{alias.name}"):
                self.need(source, alias.name, flat)  # a definition in another app module: copy it too
                return
            if source.split(".")[0] == "pydantic":
                raise Conflict(f"{module}.{name} comes from pydantic; the script depends only on torch")
            line = f"from {source} import {alias.name}" + (f" as {flat}" if alias.name != flat else "")
        else:
            line = f"import {alias.name}" + (f" as {flat}" if alias.asname else "")
        self.library.update(_check_import(node, f"{module} (for {name})"))
        if self._claim(flat, line):
            self.imports.append(line)


def _statement_source(module: str, node: ast.stmt) -> str:
    lines = _module_source(module).splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1 : node.end_lineno])


def library_closure(modules: set[str]) -> list[str]:
    """The app.ml modules `modules` need, each after the ones it imports at top level."""
    ordered: list[str] = []

    def visit(module: str) -> None:
        if module in ordered or module == "app.ml":
            return
        uses = _Uses()
        uses.visit(ast.parse(_module_source(module)))
        for node in uses.imports:
            for needed in _check_import(node, module):
                visit(needed)
        ordered.append(module)

    for module in sorted(modules):
        visit(module)
    return ordered


# --- the script -------------------------------------------------------------------------------
def cell(value: Any) -> str:
    """One CSV cell: floats as repr (exact round trip), text as is, the rest as JSON."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "" if value is None else json.dumps(value)


def build_script(demo: Demo, run: RunRecord, checksums: dict[str, str | None] | None = None) -> str:
    """`checksums`: the server's SHA-256 of each prepared artifact's file (None where it has none),
    which the script checks the artifact it rebuilds or fetches against."""
    assembly = Assembly()
    assembly.need(demo.train.__module__, demo.train.__name__)
    # The engine's pieces the replay uses, copied too: its divergence rule, its artifact builder.
    assembly.need("app.demos.divergence", "diverged")
    if demo.artifacts:
        assembly.need("app.demos.artifacts", "ArtifactStore")
        assembly.need("app.demos.artifacts", "file_sha256")
    for artifact in demo.artifacts:
        assembly.library.add(artifact.builder.partition(":")[0])
    library = library_closure(assembly.library)

    changes = run.training_changes()
    imports = _sorted_imports(set(assembly.imports) - _TEMPLATE_IMPORTS)
    return _TEMPLATE.format(
        header=_header(demo, run, changes, checksums or {}),
        imports="\n".join(line for line in imports if not _imports_app(line)),
        library="\n\n".join(_embed(module) for module in library),
        files="\n".join(f"FILES[{name!r}] = {_text_literal(text)}" for name, text in data_files(library).items()),
        app_imports="\n".join(line for line in imports if _imports_app(line)),
        packages=repr(sorted({m.rsplit(".", 1)[0] for m in library} | {"app"})),
        definitions="\n\n\n".join(assembly.definitions),
        params=_literal(demo.trained(run.params, {})),  # only the demo's own params: no withheld-text note
        changes=_literal(changes),
        columns=_literal(columns_for(demo, run)),
        stop_after=run.stop_after(),
        loss_bound=f"{demo.loss_bound!r}".replace("inf", "math.inf"),
        train=demo.train.__name__,
        cell=inspect.getsource(cell),
        artifacts="ArtifactStore(args.artifacts)" if demo.artifacts else "None",
        checksums=_literal({a.filename: (checksums or {}).get(a.filename) for a in demo.artifacts}),
        machine=_literal(sorted(demo.machine_metrics)),
    )


def _header(demo: Demo, run: RunRecord, changes: list, checksums: dict[str, str | None]) -> str:
    lines = [
        f"Reproduce ModelTerms run {run.id}: {demo.title} (demo '{demo.name}').",
        "",
        "Trains the same model with the same params and seed on the CPU, applies the run's live",
        "changes at the steps they applied from on the server, and prints every metric point as",
        "CSV, one line per point. Needs only PyTorch:",
        "",
        f"    pip install torch=={_torch_version()}   # the server's version: the same numbers",
        "    python reproduce.py > points.csv",
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
            "Set PARAMS['text'] to the same text to reproduce the run itself.",
            "",
        ]
    if changes:
        lines.append(f"Live changes: {len(changes)} (in CHANGES below).")
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
    ]
    lines += ["", "Assembled from the project's own modules (app/demos, app/ml); each copy says where from."]
    return "\n".join(lines)


def _sorted_imports(lines: set[str]) -> list[str]:
    return sorted(lines, key=lambda line: (line.startswith("from "), line))


def _literal(value: Any) -> str:
    """JSON values (from the run) as Python source: repr round-trips floats exactly."""
    return repr(value)


def _imports_app(line: str) -> bool:
    """An import the bundle serves: it must run after the bundle's finder is installed."""
    return line.split()[1].split(".")[0] == "app"


def _embed(module: str) -> str:
    return f"BUNDLED[{module!r}] = {_text_literal(_module_source(module))}"


_TEMPLATE_IMPORTS = {
    *("import math", "import json", "import sys", "import torch", "import shutil", "import tempfile"),
    "import urllib.request",
    "from pathlib import Path",
}

_TEMPLATE = '''\
"""{header}
"""

from __future__ import annotations

import argparse
import atexit
import csv
import importlib.abc
import importlib.util
import json
import math
import shutil
import sys
import tempfile
import types
import urllib.request
from pathlib import Path
{imports}

import torch

# --- the app.ml modules the demo imports, verbatim, served to `import` from here ---------------
BUNDLED: dict[str, str] = {{}}

{library}

# --- the data files they read beside their source, written out where their __file__ points ----
FILES: dict[str, str] = {{}}

{files}


class BundledModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    packages = {packages}

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="modelterms-"))
        atexit.register(shutil.rmtree, self.root, True)
        for name, text in FILES.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_bytes(text.encode("utf-8"))

    def find_spec(self, name, path=None, target=None):
        if name in BUNDLED or name in self.packages:
            return importlib.util.spec_from_loader(name, self, is_package=name in self.packages)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        path = module.__name__.replace(".", "/") + ("/__init__.py" if module.__name__ in self.packages else ".py")
        module.__file__ = str(self.root / path)
        code = compile(BUNDLED.get(module.__name__, ""), f"<{{module.__name__}}>", "exec")
        exec(code, module.__dict__)


sys.meta_path.insert(0, BundledModules())
{app_imports}


# --- the demo's training code ------------------------------------------------------------------
{definitions}


# --- the run ------------------------------------------------------------------------------------
PARAMS = {params}
CHANGES = {changes}
"""(step, changes): each applies from that step on, as on the server."""
COLUMNS = {columns}
MACHINE_METRICS = {machine}
"""Columns that measure this machine (wall time, speed): they differ from the run's."""
ARTIFACT_SHA256 = {checksums}
"""The server's SHA-256 of each prepared artifact's file (None: not known when this was made)."""
STOP_AFTER_STEP = {stop_after}
LOSS_BOUND = {loss_bound}


class ReplayControl:
    """The `Control` the demo trains against: params with the live changes applied so far."""

    def __init__(self, params: dict, artifacts, server: str | None) -> None:
        self.params = types.SimpleNamespace(**params)
        self.device = "cpu"
        self.artifacts = artifacts
        self.server = server

    def change(self, **changes) -> None:
        self.params = types.SimpleNamespace(**{{**vars(self.params), **changes}})

    def artifact(self, artifact):
        expected = ARTIFACT_SHA256.get(artifact.filename)
        path = self.artifacts.path(artifact)
        if self.server:
            how = f"fetched from {{self.server}}"
            fetch(f"{{self.server.rstrip('/')}}/api/artifacts/{{artifact.filename}}", path)
        else:
            how = "built from its recipe" if not self.artifacts.ready(artifact) else "built earlier from its recipe"

            def progress(done, total):
                print(f"building {{artifact.title}}: {{done}}/{{total}}", file=sys.stderr, end="\\r")

            self.artifacts.ensure(artifact, progress)
        digest = file_sha256(path)
        if expected is None:
            print(f"# artifact {{artifact.title}}: {{how}}; the server's SHA-256 unknown, not checked", file=sys.stderr)
        elif digest == expected:
            print(f"# artifact {{artifact.title}}: {{how}}; SHA-256 {{digest}} matches the server's", file=sys.stderr)
        elif self.server:
            sys.exit(f"{{artifact.title}} fetched from {{self.server}} has SHA-256 {{digest}}, not {{expected}}")
        else:
            print(
                f"# artifact {{artifact.title}} WARNING: {{how}}, it has SHA-256 {{digest}},"
                f" the server's has {{expected}}: another CPU type or PyTorch version; the numbers will differ."
                " --server URL fetches the server's.",
                file=sys.stderr,
            )
        return path

    def announce(self, **facts) -> None:
        print("# start:", json.dumps(facts, default=str), file=sys.stderr)


def fetch(url: str, path: Path) -> None:
    """Download `url` to `path` (through a temporary file: a cut download is never left in place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as file:
        shutil.copyfileobj(response, file)
    partial.replace(path)


{cell}

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", default="modelterms-artifacts", help="folder for prepared artifacts")
    parser.add_argument("--server", help="the server's URL: fetch its prepared artifacts instead of building them")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the server trains each run on one thread: the same sums, the same bits

    control = ReplayControl(PARAMS, {artifacts}, args.server)
    pending = list(CHANGES)
    out = csv.writer(sys.stdout, lineterminator="\\n")
    out.writerow(COLUMNS)
    steps = {train}(control.params, control)
    next_step = 0
    while True:
        while pending and pending[0][0] <= next_step:
            control.change(**pending.pop(0)[1])
        try:
            points = next(steps)
        except StopIteration as end:
            print("# summary:", json.dumps(end.value, default=str), file=sys.stderr)
            return
        points = points if isinstance(points, list) else [points]
        if not points:
            continue  # nothing logged: the server's step counter does not move either
        for point in points:
            out.writerow([cell(point.get(key)) for key in COLUMNS])
        next_step = points[-1]["step"] + 1
        if all(diverged(point, LOSS_BOUND) for point in points):
            print(f"# diverged at step {{points[0]['step']}}", file=sys.stderr)
            return
        if STOP_AFTER_STEP is not None and next_step > STOP_AFTER_STEP:
            return


if __name__ == "__main__":
    main()
'''
