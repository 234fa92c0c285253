"""Caches kept in the repository's state folder are read back building evaltui's own records only.

A cloned repository may carry a state folder of its own (a `.evaltui/cache` added with
`git add -f`), and a pickle can run any code as it is read. Browsing never runs the
repository's code, so every diskcache store under the state folder reads its values with
`RecordUnpickler`: plain data, a few standard types, and the record classes (NamedTuples,
dataclasses) of `evaltui.core`. Anything else fails to read and the cache is rebuilt.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import pickle
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import diskcache

STANDARD = frozenset(
    {
        ("pathlib", "PosixPath"),
        ("pathlib", "WindowsPath"),
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
    }
)


def is_record(found: object) -> bool:
    """A class whose unpickling builds fields and nothing else: a NamedTuple, a dataclass, or
    a class that says so with `__cache_record__ = True`."""
    if not isinstance(found, type):
        return False
    if issubclass(found, tuple) and hasattr(found, "_fields"):
        return True
    return dataclasses.is_dataclass(found) or found.__dict__.get("__cache_record__") is True


class RecordUnpickler(pickle.Unpickler):
    """Builds plain data, the standard types above, `extra` callables, and evaltui's core records."""

    def __init__(self, file: BinaryIO, extra: frozenset[tuple[str, str]] = frozenset()):
        super().__init__(file)
        self.extra = extra

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in STANDARD or (module, name) in self.extra:
            return super().find_class(module, name)
        if module.startswith("evaltui.core.") and "." not in name:
            found = super().find_class(module, name)
            if is_record(found):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a record evaltui caches")


def loads(raw: bytes, extra: frozenset[tuple[str, str]] = frozenset()) -> Any:
    return RecordUnpickler(io.BytesIO(raw), extra).load()


@functools.cache
def record_disk() -> type[diskcache.Disk]:
    """diskcache's storage with its pickled values read by `RecordUnpickler`."""
    import diskcache
    from diskcache.core import MODE_PICKLE

    class RecordDisk(diskcache.Disk):  # type: ignore[misc]  # diskcache ships no types
        def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
            if mode != MODE_PICKLE:
                return super().fetch(mode, filename, value, read)
            if value is None:
                with open(os.path.join(self._directory, filename or ""), "rb") as reader:
                    return RecordUnpickler(reader).load()
            return RecordUnpickler(io.BytesIO(value)).load()

    return RecordDisk
