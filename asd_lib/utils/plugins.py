"""Import every module of a package so its registry entries exist.

A new method is a new module plus a config: the package ``__init__`` calls
:func:`import_all`, so nobody has to add an import line elsewhere.
"""
import importlib
import pkgutil


def import_all(package_name: str, package_path) -> None:
    for info in sorted(pkgutil.iter_modules(package_path), key=lambda i: i.name):
        importlib.import_module(f"{package_name}.{info.name}")
