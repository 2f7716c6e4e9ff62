"""The first lines of every downloaded script (its source is copied there verbatim, after the
script's own docstring): serves the project modules the script carries as text to `import`, so
the training module and the app.ml modules it uses run unchanged, under their own names.

It needs nothing but the standard library: it runs before anything it carries is importable.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path


class BundledModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`modules`: module name -> source. `files`: path (from the folder that holds `app`) ->
    text of each data file a module reads beside itself; written out to a temporary folder that
    the modules' `__file__` points into."""

    def __init__(self, modules: dict[str, str], files: dict[str, str]) -> None:
        self.modules = modules
        self.packages = {name.rsplit(".", depth)[0] for name in modules for depth in range(1, name.count(".") + 1)}
        self.root = Path(tempfile.mkdtemp(prefix="modelterms-"))
        atexit.register(shutil.rmtree, self.root, True)
        for name, text in files.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_bytes(text.encode("utf-8"))

    def find_spec(self, name: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name in self.modules or name in self.packages:
            return importlib.util.spec_from_loader(name, self, is_package=name in self.packages)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: object) -> None:
        name: str = module.__name__  # type: ignore[attr-defined]
        tail = "/__init__.py" if name in self.packages else ".py"
        module.__file__ = str(self.root / (name.replace(".", "/") + tail))  # type: ignore[attr-defined]
        # A package the script carries only for its modules (app, app.ml) is empty here.
        exec(compile(self.modules.get(name, ""), f"<{name}>", "exec"), module.__dict__)


def install(modules: dict[str, str], files: dict[str, str]) -> None:
    """Serve `modules` to `import`, ahead of anything installed under the same names."""
    sys.meta_path.insert(0, BundledModules(modules, files))
