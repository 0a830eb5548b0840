"""The core is a library: importing every app.* module must not load streamlit."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import app


def test_every_app_module_imports_without_streamlit() -> None:
    code = (
        "import importlib, pkgutil, sys, app\n"
        "names = [m.name for m in pkgutil.walk_packages(app.__path__, 'app.')]\n"
        "for n in names: importlib.import_module(n)\n"
        "assert 'streamlit' not in sys.modules, 'streamlit imported by the core'\n"
        "print(len(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) > 10


def test_every_package_has_all_and_docstring() -> None:
    for m in pkgutil.walk_packages(app.__path__, "app."):
        if m.ispkg:
            mod = importlib.import_module(m.name)
            assert mod.__doc__ and mod.__doc__.strip(), f"{m.name} has no docstring"
            assert hasattr(mod, "__all__"), f"{m.name} has no __all__"
