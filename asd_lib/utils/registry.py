"""Name -> class registries, so a YAML config can name a component and its arguments.

Example::

    MODELS = Registry("model")

    @MODELS.register("stgram_mfn")
    class STgramMFN(nn.Module): ...

    model = MODELS.build("stgram_mfn", num_classes=41)

A config names a component and its keyword arguments; :meth:`Registry.check_conf` checks
both against the registry and the constructor's signature (``inspect.signature``) before
anything is built, so a typo is a :class:`~asd_lib.utils.config.ConfigError` naming the
key and the choices, not a ``TypeError`` after the data is loaded.
"""
import inspect
import typing
from typing import Any, Callable, Dict, Iterable, Optional

from asd_lib.utils.config import ConfigError, did_you_mean, to_number
from asd_lib.utils.yamlread import shown

_KINDS = (bool, int, float, str)
_KIND_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


class Registry:
    """A named table of constructors with a helpful error for unknown names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._table: Dict[str, Callable] = {}

    def register(self, name: str) -> Callable:
        def decorator(obj: Callable) -> Callable:
            return self.add(name, obj)

        return decorator

    def add(self, name: str, obj):
        """Register ``obj`` under ``name`` and return it."""
        if name in self._table:
            raise KeyError(f"{self.kind} {name!r} is registered twice")
        self._table[name] = obj
        return obj

    def get(self, name: str) -> Callable:
        if name not in self._table:
            known = ", ".join(sorted(self._table))
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of: {known}")
        return self._table[name]

    def build(self, name: str, **kwargs):
        return self.get(name)(**kwargs)

    def check_name(self, name: Any, key: str, extra: Iterable[str] = ()) -> None:
        """A :class:`ConfigError` naming the config ``key`` unless ``name`` is registered
        (or one of ``extra``, names the caller handles itself, such as ``head: none``)."""
        choices = sorted([*self._table, *extra])
        if name not in choices:
            raise ConfigError(f"{key}: unknown {self.kind} {name!r}; "
                              f"{did_you_mean(name, choices)}choose one of: {', '.join(choices)}")

    def check_conf(self, name: str, conf: Any, key: str, conf_key: str,
                   given: Iterable[str] = ()) -> Dict[str, Any]:
        """Check the config's ``name`` (at ``key``) and its arguments ``conf`` (at
        ``conf_key``) against the registered constructor, which the caller also passes
        ``given``; return ``conf`` with numbers read from text (:func:`check_arguments`)."""
        self.check_name(name, key)
        if conf is None:
            conf = {}
        if not isinstance(conf, dict):
            raise ConfigError(f"{conf_key}: expected a mapping of {self.kind} arguments, got "
                              f"{shown(conf)}")
        return check_arguments(self._table[name], conf, f"{self.kind} {name!r}", conf_key,
                               given)

    def names(self):
        return sorted(self._table)

    def __contains__(self, name: str) -> bool:
        return name in self._table


def check_arguments(constructor: Callable, conf: Dict[str, Any], what: str, conf_key: str,
                    given: Iterable[str] = ()) -> Dict[str, Any]:
    """Check the keyword arguments ``conf`` of ``constructor`` (``what``, e.g. ``model
    'stgram_mfn'``, at ``conf_key`` in messages) against its signature: every key must be a
    parameter (did you mean ...? and the known keys otherwise), every parameter without a
    default must be in ``conf`` or ``given``, and a value must have the parameter's kind
    (its annotation, or its default's type: true/false, a number, a string). Numbers
    written as text are read as numbers, as YAML 1.1 reads ``1e-4`` as text
    (:func:`~asd_lib.utils.config.to_number`). A constructor taking ``**kwargs`` accepts
    any further key. Returns the checked arguments; raises :class:`ConfigError`."""
    params = inspect.signature(constructor).parameters
    open_ended = any(p.kind is p.VAR_KEYWORD for p in params.values())
    named = {n: p for n, p in params.items()
             if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    given = set(given)
    for name in sorted(given - set(named)):
        if not open_ended:
            raise ConfigError(f"{conf_key}: {what} cannot be used here: it takes no {name!r} "
                              "argument, which the trainer passes; choose another")
    known = sorted(set(named) - given)
    checked = {}
    for key, value in conf.items():
        if key in given or (key not in named and not open_ended):
            if not known:
                raise ConfigError(f"{conf_key}: unknown key {key!r}; {what} takes no "
                                  "arguments")
            problem = (f"key {key!r} of {what} is set by the trainer" if key in given
                       else f"unknown key {key!r} of {what}")
            raise ConfigError(f"{conf_key}: {problem}; {did_you_mean(key, known)}known keys: "
                              f"{', '.join(known)}")
        checked[key] = _check_value(f"{conf_key}.{key}", value, named.get(key))
    missing = [n for n, p in named.items()
               if p.default is p.empty and n not in given and n not in conf]
    if missing:
        raise ConfigError(f"{conf_key}: {what} needs {', '.join(map(repr, missing))}; add "
                          f"{'it' if len(missing) == 1 else 'them'} to {conf_key}")
    return checked


def _check_value(key: str, value: Any, param: Optional[inspect.Parameter]) -> Any:
    """``value`` of the parameter ``param`` (``None``: not in the signature) in its kind."""
    kind, optional = _kind(param) if param is not None else (None, True)
    if kind is None or (value is None and optional):
        return value
    if kind in (int, float):
        number = to_number(value, kind)
        if number is not None:
            return value if kind is float and isinstance(value, int) else number
    elif isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise ConfigError(f"{key} must be {_KIND_NAMES[kind]}, got {shown(value)}")


def _kind(param: inspect.Parameter):
    """(bool, int, float or str, whether None is allowed) of a parameter, from its
    annotation (``Optional[x]`` allows None) or else its default; (None, True) when
    neither tells."""
    annotation, default = param.annotation, param.default
    if isinstance(annotation, str):
        annotation = {k.__name__: k for k in _KINDS}.get(annotation, annotation)
    optional = default is None
    if typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = optional or len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else None
    if annotation in _KINDS:
        return annotation, optional
    if type(default) in _KINDS:  # an integer default may stand for any number (lr=0)
        return (float if type(default) is int else type(default)), optional
    return None, True
