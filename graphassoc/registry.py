"""String-keyed registries for swappable parts (engines, encoders, gnns, rankers, exporters)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Generic, TypeVar

from graphassoc.errors import UsageError

T = TypeVar("T")


@dataclass
class Registry(Generic[T]):
    kind: str
    # Modules whose import registers entries, imported on the first lookup (in this order, which is
    # the listing's): the registry never imports them at its own import time, as they import it.
    modules: tuple[str, ...] = ()
    _entries: dict[str, tuple[T, str]] = field(default_factory=dict)
    _loaded: bool = False

    def _load(self) -> None:
        if not self._loaded:
            for module in self.modules:
                importlib.import_module(module)
            # The listing's order is the modules' order, whichever of them a caller imported first.
            order = {module: i for i, module in enumerate(self.modules)}
            ranked = sorted(self._entries.items(), key=lambda e: order.get(getattr(e[1][0], "__module__", ""), -1))
            self._entries = dict(ranked)
            self._loaded = True

    def register(self, name: str, description: str = "") -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._entries[name] = (obj, description or (getattr(obj, "__doc__", "") or "").strip().split("\n")[0])
            return obj

        return decorator

    def get(self, name: str) -> T:
        self._load()
        if name not in self._entries:
            raise UsageError(f"unknown {self.kind} '{name}'; valid: {', '.join(self.names())}")
        return self._entries[name][0]

    def names(self) -> list[str]:
        self._load()
        return list(self._entries)

    def describe(self) -> list[tuple[str, str]]:
        self._load()
        return [(name, desc) for name, (_, desc) in self._entries.items()]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries


# Where each registry lives; imported lazily so `graphassoc ls engines` does not load torch.
REGISTRIES: dict[str, str] = {
    "engines": "graphassoc.mining.engines:ENGINES",
    "encoders": "graphassoc.text.encoder:ENCODERS",
    "gnns": "graphassoc.model.gnn:GNNS",
    "rankers": "graphassoc.rankers.base:RANKERS",
    "exporters": "graphassoc.export.registry:EXPORTERS",
}


def load_registry(kind: str) -> Registry:
    if kind not in REGISTRIES:
        raise UsageError(f"unknown registry '{kind}'; valid: {', '.join(REGISTRIES)}")
    module, attr = REGISTRIES[kind].split(":")
    return getattr(importlib.import_module(module), attr)
