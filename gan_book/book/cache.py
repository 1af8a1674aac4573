"""Content-hash cache for heavy results computed while the book builds.

A cached call is keyed by

* the function's qualified name and its arguments (a data file passed as a
  `pathlib.Path` contributes the hash of its bytes, not its name),
* the source of the function's module and of every `gan_book` module it imports,
  followed transitively, so that an edit to the package invalidates exactly what
  depends on it,
* the versions of Python, numpy, scipy and torch.

Results are pickled under `.cache/gan_book/` in the repository (or under the folder
named by the environment variable `GAN_BOOK_CACHE_DIR`), written to a temporary file
and renamed, so an interrupted build never leaves a truncated entry. `make clean`
removes the folder. The files are trusted local build products: never point the
cache at a folder that other people can write to, because unpickling runs code.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from gan_book.book import provenance
from gan_book.book.environment import commit, hardware_summary, library_versions, now
from gan_book.files import write_atomically

PACKAGE = "gan_book"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE_DIR = PACKAGE_ROOT.parent / ".cache" / "gan_book"

F = TypeVar("F", bound=Callable[..., Any])


def cache_dir() -> Path:
    """Return the cache folder: `$GAN_BOOK_CACHE_DIR` or `.cache/gan_book`."""
    return Path(os.environ.get("GAN_BOOK_CACHE_DIR", DEFAULT_CACHE_DIR))


def _module_file(module_name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module_name)
    except ModuleNotFoundError:
        # `from gan_book.x import name` yields the candidate `gan_book.x.name`, which is
        # not a module when x is a plain module.
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imported_package_modules(module_name: str, path: Path) -> set[str]:
    """List the `gan_book` modules that the source at `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    package = module_name if is_package else module_name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from gan_book.x import y` may import the submodule y or a name in x.
            names = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                found.add(name)
    return found


@functools.lru_cache(maxsize=None)
def _dependency_files(module_name: str) -> tuple[Path, ...]:
    """Return the source files of `module_name` and the package modules it imports."""
    seen: dict[str, Path] = {}
    pending = [module_name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            continue
        seen[name] = path
        # Importing a submodule runs its parent packages' __init__ too.
        parts = name.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        pending.extend(_imported_package_modules(name, path))
    return tuple(sorted(set(seen.values())))


def source_fingerprint(module_name: str) -> str:
    """Hash the source of `module_name` and of every package module it uses."""
    digest = hashlib.sha256()
    for path in _dependency_files(module_name):
        digest.update(str(path.relative_to(PACKAGE_ROOT.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    return library_versions()


def _canonical(value: Any) -> Any:
    """Turn an argument into JSON-serialisable data that identifies it exactly."""
    if isinstance(value, Path):
        return {"file": hashlib.sha256(value.read_bytes()).hexdigest()}
    if isinstance(value, np.ndarray):
        return {"array": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest(),
                "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in sorted(value.items())}
    if hasattr(value, "dist") and hasattr(value, "args") and hasattr(value, "kwds"):
        # A frozen scipy.stats distribution is identified by its family and parameters.
        return {"distribution": value.dist.name, "args": _canonical(list(value.args)),
                "kwds": _canonical(dict(value.kwds))}
    if hasattr(value, "__dataclass_fields__"):
        fields = {name: getattr(value, name) for name in value.__dataclass_fields__}
        return {"dataclass": type(value).__qualname__, "fields": _canonical(fields)}
    raise TypeError(
        f"cannot build a cache key from an argument of type {type(value).__name__}; "
        "pass numbers, strings, tuples, lists, dicts, numpy arrays, dataclasses, frozen "
        "scipy.stats distributions or Paths"
    )


def cache_key(function: Callable[..., Any], args: tuple, kwargs: dict) -> str:
    """Return the hex key of a call: function, arguments, sources and versions."""
    module = function.__module__
    payload = {
        "function": f"{module}.{function.__qualname__}",
        "arguments": _canonical(inspect.signature(function).bind(*args, **kwargs).arguments),
        "source": source_fingerprint(module),
        "versions": _library_versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    write_atomically(path, lambda handle: handle.write(data))


CACHE_FORMAT = 2


def _load(path: Path) -> dict | None:
    """Return a stored entry, or None if it is from an older cache format."""
    with path.open("rb") as file:
        entry = pickle.load(file)
    if isinstance(entry, dict) and entry.get("format") == CACHE_FORMAT:
        return entry
    return None


def cached(function: F) -> F:
    """Cache `function`'s results on disk, keyed as the module docstring describes.

    Each entry stores, beside the result, when, where and at which commit it was
    computed and how long that took. Every call is reported to
    `gan_book.book.provenance`, which attaches it to the next figure or table, and
    `wrapper.last_call` holds whether the last call was a hit and how long computing
    (on a miss) or loading (on a hit) took.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = cache_key(function, args, kwargs)
        path = cache_dir() / f"{function.__qualname__}-{key[:32]}.pkl"
        start = time.perf_counter()
        entry = _load(path) if path.exists() else None
        hit = entry is not None
        if entry is None:
            result = function(*args, **kwargs)
            entry = {
                "format": CACHE_FORMAT,
                "result": result,
                "computed": {"seconds": round(time.perf_counter() - start, 3),
                             "commit": commit(), "date": now(),
                             "hardware": hardware_summary()},
            }
            _write_atomically(path, pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
        wrapper.last_call = {"hit": hit, "seconds": time.perf_counter() - start}
        arguments = inspect.signature(function).bind(*args, **kwargs).arguments
        provenance.note_call(f"{function.__module__}.{function.__qualname__}",
                             provenance.summarise_arguments(arguments), entry["computed"],
                             hit=hit)
        return entry["result"]

    wrapper.last_call = None
    return wrapper  # type: ignore[return-value]


def clear() -> int:
    """Remove every cached result and return how many files were removed."""
    removed = 0
    folder = cache_dir()
    if folder.is_dir():
        for path in folder.glob("*.pkl"):
            path.unlink()
            removed += 1
    return removed


if __name__ == "__main__":  # pragma: no cover - a convenience for contributors
    print(f"removed {clear()} cached results from {cache_dir()}", file=sys.stderr)
