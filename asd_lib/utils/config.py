"""Configuration: a YAML file sets parser defaults, the command line overrides them.

Plain ``argparse`` with ESPnet's ``config_argparse`` idea: ``--config conf/x.yaml`` is read
first, every key in it must be an option of the parser (an unknown key is an error naming
the file and the key, with the closest known key), and explicit command-line options win.
Nested sections (``model_conf``, ``stages``) are YAML mappings/lists; on the command line
they are given as YAML text, e.g. ``--model_conf '{table: liu8}'``. The resolved
configuration is written back to the experiment directory with the package version, and
inference reads it from there.
"""
import argparse
import difflib
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Sequence

import yaml

from asd_lib.utils import yamlread
from asd_lib.utils.fileio import atomic_write
from asd_lib.utils.yamlread import YamlContentError, shown


class ConfigError(ValueError):
    """A configuration file or value that cannot be used as given."""


def str2bool(value: str) -> bool:
    """Booleans accept only ``true`` / ``false`` (as in the shell recipes)."""
    if isinstance(value, bool):
        return value
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def yaml_value(text: str) -> Any:
    """Parse a command-line value as YAML (mappings, lists, numbers, null)."""
    if not isinstance(text, str):
        return text
    try:
        return yamlread.load(text)
    except YamlContentError as exc:
        raise argparse.ArgumentTypeError(f"{shown(text)}: {exc}")
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"not valid YAML: {shown(text)} ({exc})")


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the choice closest to ``word`` (difflib), or ``""``."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}? " if close else ""


def load_yaml(path) -> Dict[str, Any]:
    """Read a YAML mapping; a clear error for a missing, invalid or non-mapping file, a key
    given twice or an alias bomb (:mod:`asd_lib.utils.yamlread`)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (check --config / --train_config)")
    try:
        with open(path, encoding="utf-8") as f:
            data = yamlread.load(f)
    except YamlContentError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of option: value")
    return data


class ConfigParser(argparse.ArgumentParser):
    """Argument parser whose ``--config`` YAML provides checked defaults."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument("--config", default=None, help="YAML file whose keys set defaults")

    def parse_args(self, args: Optional[Sequence[str]] = None, namespace=None):
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--config", default=None)
        known, _ = pre.parse_known_args(args)
        if known.config is not None:
            self.apply_yaml_defaults(known.config)
        return super().parse_args(args, namespace)

    def apply_yaml_defaults(self, path) -> None:
        """Set the parser defaults from the YAML file ``path``, each value checked against
        its option: an unknown key or a value of the wrong type is a :class:`ConfigError`
        naming the file and the key."""
        data = load_yaml(path)
        dests = {a.dest: a for a in self._actions if a.dest not in ("help", "config")}
        values = {}
        for key, value in data.items():
            if key not in dests:
                raise ConfigError(f"{path}: unknown key {key!r}; {did_you_mean(key, dests)}"
                                  f"known keys: {', '.join(sorted(dests))}")
            values[key] = _check_value(path, key, value, dests[key])
        self.set_defaults(**values)


def _check_value(path, key: str, value: Any, action: argparse.Action) -> Any:
    """``value`` of config key ``key`` converted to the option's type, or a ConfigError."""
    kind = action.type
    if kind is yaml_value or (value is None and action.default is None):
        return value
    if value is None:
        raise ConfigError(f"{path}: {key} has no value; give one or remove the line")
    if kind is str2bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: {key} must be true or false, got {shown(value)}")
    if kind in (int, float):
        number = to_number(value, kind)
        if number is None:
            name = "an integer" if kind is int else "a number"
            raise ConfigError(f"{path}: {key} must be {name}, got {shown(value)}")
        value = number
    elif kind is None and not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string, got {shown(value)}")
    elif kind is not None and isinstance(value, str):
        try:
            value = kind(value)
        except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
            raise ConfigError(f"{path}: {key}: {exc}") from exc
    if action.choices is not None and value not in action.choices:
        raise ConfigError(f"{path}: {key} must be one of {list(action.choices)}, got "
                          f"{shown(value)}")
    return value


def to_number(value: Any, kind: type):
    """``value`` as ``kind`` (int or float), or None. Numeric strings are accepted because
    YAML 1.1 reads ``1e-4`` (no dot) as text; booleans and non-integral ints are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value) if kind is float else int(value)
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    if kind is int and isinstance(value, float) and not value.is_integer():
        return None
    return kind(value)


def save_config(data: Dict[str, Any], path) -> None:
    """Write a resolved configuration as YAML, atomically."""
    with atomic_write(path) as f:
        yaml.safe_dump(data, f, sort_keys=True)


def read_saved_config(path) -> Dict[str, Any]:
    """Read a configuration saved by :func:`save_config`."""
    data = load_yaml(path)
    data.pop("asd_lib_version", None)
    return data
