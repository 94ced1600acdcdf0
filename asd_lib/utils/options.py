"""Typed configurations as dataclasses: one field per option, its kind, help and group.

A configuration class declares each key once, with :func:`option`; the same declaration
checks a value read from YAML (:func:`check_value`: a wrong kind is a ConfigError naming
the key), turns a mapping into the object (:func:`build`: an unknown key is an error with
the closest known key) and makes the command-line options (:func:`add_options`), so a
``bin/`` script declares nothing again.

The kinds: ``int``, ``float``, ``bool`` and ``str`` are checked as such; ``yaml`` takes any
YAML value (nested sections such as ``model_conf``, given as YAML text on the command
line) and ``mapping`` a YAML mapping.
"""
import argparse
import dataclasses
from typing import Any, Dict, Iterable, Optional, Sequence

from asd_lib.utils.config import ConfigError, did_you_mean, str2bool, to_number, yaml_value
from asd_lib.utils.yamlread import shown

KINDS = ("int", "float", "bool", "str", "yaml", "mapping")


def option(default: Any, kind: str, help: str, group: str = "options",
           choices: Optional[Sequence[str]] = None):
    """A dataclass field that is an option of ``kind`` (:data:`KINDS`); a mutable default
    (a mapping, a list) is copied for every object."""
    if kind not in KINDS:
        raise ValueError(f"option kind {kind!r} is not one of {KINDS}")
    metadata = {"kind": kind, "help": help, "group": group, "choices": choices}
    if isinstance(default, (dict, list)):
        return dataclasses.field(default_factory=lambda: type(default)(default),
                                 metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def default_of(f: dataclasses.Field) -> Any:
    """The default value of option ``f`` (a fresh copy of a mutable one)."""
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def check_value(f: dataclasses.Field, value: Any) -> Any:
    """``value`` of option ``f`` in its kind (numbers written as text read as numbers), or a
    ConfigError naming the key; ``None`` only where the default is ``None``."""
    kind, key = f.metadata["kind"], f.name
    default = default_of(f)
    if value is None:
        if default is None or kind == "yaml":
            return None
        raise ConfigError(f"{key} has no value; give one or remove the line")
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {shown(value)}")
    elif kind in ("int", "float"):
        number = to_number(value, int if kind == "int" else float)
        if number is None:
            name = "an integer" if kind == "int" else "a number"
            raise ConfigError(f"{key} must be {name}, got {shown(value)}")
        value = number
    elif kind == "str" and not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {shown(value)}")
    elif kind == "mapping" and not isinstance(value, dict):
        raise ConfigError(f"{key} must be a mapping of key: value, got {shown(value)}")
    choices = f.metadata["choices"]
    if choices is not None and value not in choices:
        raise ConfigError(f"{key} must be one of {list(choices)}, got {shown(value)}")
    return value


def check_fields(obj) -> None:
    """Check (and convert, in place) every option of the dataclass object ``obj``."""
    for f in dataclasses.fields(obj):
        object.__setattr__(obj, f.name, check_value(f, getattr(obj, f.name)))


def check_keys(cls, keys: Iterable[str]) -> None:
    """ConfigError for the first key that is not an option of ``cls``, with the closest."""
    known = [f.name for f in dataclasses.fields(cls)]
    for key in keys:
        if key not in known:
            raise ConfigError(f"unknown key {key!r}; {did_you_mean(key, known)}known keys: "
                              f"{', '.join(sorted(known))}")


def build(cls, data: Dict[str, Any]):
    """``cls`` from a mapping of its options (the others keep their defaults)."""
    check_keys(cls, data)
    return cls(**data)


def add_options(parser: argparse.ArgumentParser, cls, given_only: bool = True) -> None:
    """An option ``--<name>`` per field of ``cls``, in its group, with the field's help.
    With ``given_only`` an option not given is absent from the parsed namespace, so that
    only what the command line sets overrides a config file; otherwise its default is the
    field's (for :class:`~asd_lib.utils.config.ConfigParser`, whose ``--config`` sets the
    defaults)."""
    groups: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        group = f.metadata["group"]
        if group not in groups:
            groups[group] = parser.add_argument_group(group)
        convert = {"int": int, "float": float, "bool": str2bool, "str": None}.get(
            f.metadata["kind"], yaml_value)
        help_text = f.metadata["help"]
        if given_only:
            default, help_text = argparse.SUPPRESS, f"{help_text} (default: {default_of(f)})"
        else:
            default = default_of(f)
        groups[group].add_argument(f"--{f.name}", type=convert, default=default,
                                   choices=f.metadata["choices"], help=help_text)
