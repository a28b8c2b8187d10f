"""One small registry type for problems, samplers, update rules and experiments.

Every list of names a config, schema, figure or experiment offers comes from a
registry, so a new entry (built in, or from a plugin) is known everywhere at
once. Registering a name that is already taken is refused: a plugin cannot
silently replace a built-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

# Who is registering right now: the package, or the plugin being imported
# (set by sgdbench.plugins while it imports one), named in clash errors and listings.
_current_origin = ["sgdbench"]


class registering_as:  # noqa: N801 — used as a context manager, reads like a phrase
    """Attribute registrations made inside the block to ``origin``."""

    def __init__(self, origin: str):
        self.origin = origin

    def __enter__(self):
        _current_origin.append(self.origin)

    def __exit__(self, *exc):
        _current_origin.pop()


_ALL: list[Registry] = []  # every registry, so a failed plugin's entries can be withdrawn


def forget(origin: str) -> None:
    """Withdraw every entry ``origin`` registered (a plugin whose import failed half-way)."""
    for registry in _ALL:
        for name in [k for k, o in registry._origin.items() if o == origin]:
            registry.unregister(name)


class RegistryError(ValueError):
    """A name registered twice, looked up but never registered, or an incomplete entry.

    ``fix`` is what the author of the registering code should do about it."""

    def __init__(self, message: str, fix: str = "rename what the plugin registers"):
        super().__init__(message)
        self.fix = fix


class Registry(Generic[T]):
    """An ordered name → entry mapping; order of registration is the display order."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._origin: dict[str, str] = {}
        _ALL.append(self)

    def register(self, name: str, entry: T, *, origin: str | None = None) -> T:
        """Add ``entry`` under ``name``; ``origin`` (a module or plugin) is named in errors."""
        origin = origin or _current_origin[-1]
        if not isinstance(name, str) or not name.isidentifier():
            raise RegistryError(f"{self.kind} name {name!r} must be a Python identifier")
        if name in self._entries:
            raise RegistryError(
                f"{self.kind} {name!r} is already registered (by {self._origin[name]}); "
                "choose another name"
            )
        self._entries[name] = entry
        self._origin[name] = origin
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (for tests that register temporary ones)."""
        self._entries.pop(name, None)
        self._origin.pop(name, None)

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise RegistryError(
                f"unknown {self.kind} {name!r}; choose one of {self.names()}"
            ) from None

    def origin(self, name: str) -> str:
        return self._origin[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self):
        return self._entries.items()

    def values(self):
        return self._entries.values()

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
