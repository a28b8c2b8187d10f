"""Plugins: problems, samplers, update rules and experiments from outside the package.

A plugin is an importable module name (``my_lab.samplers``), a path to a
``.py`` file, or a path to a folder with an ``__init__.py`` (an experiment folder
of the built-ins' shape), listed under ``plugins:`` in a run config or the
pipeline config, or an installed distribution's entry point in the
``sgdbench.plugins`` group. Importing it runs its registrations
(``sgdbench.samplers.register(...)``, ``sgdbench.problems.register(...)``,
``sgdbench.updates.register(...)``); an imported module that declares an
``EXPERIMENT`` is registered as the built-in folders are, by the hook
:mod:`sgdbench.experiments` installs (:func:`on_load`).
Each plugin is loaded once per process; a failure is one :class:`PluginError`
that names the plugin and the fix (the CLI exits 2).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from types import ModuleType

from .messages import one_line
from .registry import RegistryError, forget, registering_as

ENTRY_POINT_GROUP = "sgdbench.plugins"
_loaded: dict[str, str] = {}  # plugin spec -> module name
# Called with each plugin module once it is imported (registration of what it declares):
# installed by the registries that read declarations, so this module imports none of them.
_hooks: list[Callable[[ModuleType], object]] = []


def on_load(hook: Callable[[ModuleType], object]) -> None:
    """Call ``hook(module)`` for every plugin module imported from now on, and for those
    imported already."""
    _hooks.append(hook)
    for spec, name in list(_loaded.items()):
        if name in sys.modules:
            with registering_as(f"plugin {spec}"):
                hook(sys.modules[name])


class PluginError(ValueError):
    def __init__(self, plugin: str, message: str, fix: str):
        self.plugin, self.message, self.fix = plugin, message, fix
        super().__init__(one_line(f"plugin '{plugin}': {message}. Fix: {fix}"))


def _module_name_for(path: Path) -> str:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return f"sgdbench_plugin_{path.stem}_{digest}"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def load(spec: str, *, base: Path | None = None) -> str:
    """Import one plugin (module name or ``.py`` path, relative to ``base``); return its module name.

    A plugin that fails leaves nothing registered behind.
    """
    if spec in _loaded:
        return _loaded[spec]
    try:
        return _import(spec, base)
    except PluginError:
        forget(f"plugin {spec}")
        raise


def _import(spec: str, base: Path | None) -> str:
    is_path = spec.endswith(".py") or "/" in spec or "\\" in spec
    try:
        name = _import_path(spec, base) if is_path else _import_module(spec)
        with registering_as(f"plugin {spec}"):
            for hook in _hooks:
                hook(sys.modules[name])
    except PluginError:
        raise
    except RegistryError as e:
        raise PluginError(spec, str(e), e.fix) from e
    except ModuleNotFoundError as e:
        if not is_path and e.name == spec.split(".")[0]:
            raise PluginError(spec, f"no module named {spec!r}",
                              "install it, put it on PYTHONPATH, or give a .py path") from e  # fmt: skip
        raise PluginError(spec, f"import failed: {e}{_where(e)}", "fix the plugin's imports") from e
    except Exception as e:  # noqa: BLE001 — any error in user code becomes one clear message
        raise PluginError(spec, f"import failed: {type(e).__name__}: {e}{_where(e)}",
                          "fix the error in the plugin") from e  # fmt: skip
    _loaded[spec] = name
    return name


def _import_module(spec: str) -> str:
    with registering_as(f"plugin {spec}"):
        importlib.import_module(spec)
    return spec


def _import_path(spec: str, base: Path | None) -> str:
    """Import a ``.py`` file, or a folder as a package (its ``__init__.py``), under a name
    unique to its path."""
    path = Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    path = path.resolve()
    if path.is_dir():
        if not (path / "__init__.py").is_file():
            raise PluginError(spec, f"folder {path} has no __init__.py",
                              "give a folder with an __init__.py (an experiment folder), "
                              "a .py file or a module name")  # fmt: skip
        file, package = path / "__init__.py", [str(path)]
    elif not path.is_file():
        raise PluginError(spec, f"no such file or folder {path}",
                          "give an existing .py file, a plugin folder or a module name")  # fmt: skip
    elif path.suffix != ".py":
        raise PluginError(spec, f"{path} is not a .py file",
                          "give a .py file, a plugin folder or an importable module name")  # fmt: skip
    else:
        file, package = path, None
    name = _module_name_for(path)
    module_spec = importlib.util.spec_from_file_location(name, file, submodule_search_locations=package)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        with registering_as(f"plugin {spec}"):
            module_spec.loader.exec_module(module)
    except BaseException:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            sys.modules.pop(key, None)
        raise
    return name


def loaded_module(spec: str) -> str | None:
    """The module name a loaded plugin spec was imported as (None if it was not loaded)."""
    return _loaded.get(spec)


def load_all(specs, *, base: Path | None = None) -> list[str]:
    """Load the installed entry points, then each listed plugin, in order."""
    names = load_entry_points()
    return names + [load(str(s), base=base) for s in (specs or [])]


def load_entry_points() -> list[str]:
    names = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = f"entry-point:{ep.name}"
        if key in _loaded:
            names.append(_loaded[key])
            continue
        try:
            with registering_as(f"plugin {ep.value}"):
                loaded = ep.load()
                for hook in _hooks if isinstance(loaded, ModuleType) else ():
                    hook(loaded)
        except RegistryError as e:
            raise PluginError(ep.value, str(e), e.fix) from e
        except Exception as e:  # noqa: BLE001
            raise PluginError(ep.value, f"entry point {ep.name!r} failed: {type(e).__name__}: {e}",
                              "fix or uninstall the plugin's distribution") from e  # fmt: skip
        _loaded[key] = ep.value
        names.append(ep.value)
    return names
