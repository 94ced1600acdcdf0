"""YAML read strictly: no key twice in a mapping, no alias bomb, values shown bounded.

- A key given twice in one mapping is an error naming the key and both lines. The YAML 1.2
  specification requires the keys of a mapping to be unique (section 3.2.1.1); PyYAML's
  ``safe_load`` keeps the last one silently. The keys a merge (``<<: *base``) brings in
  may still be overridden, as YAML 1.1's merge key type defines.
- A document whose aliases expand it to more than :data:`MAX_VALUES` values is refused
  before it is built ("billion laughs": a few lines of anchors and aliases, each level
  repeating the one before, name a value of billions of items, which any later walk of it
  — validation, an error message, ``yaml.safe_dump`` — expands). The size is counted on
  the composed node graph, each distinct node once, so counting costs what reading the
  text costs.
- :func:`shown` is the text of a value for an error message, at most
  :data:`SHOWN_CHARS` characters.
"""
import reprlib
from typing import Any, Dict, Tuple

import yaml

MAX_VALUES = 100_000
"""Ours: the largest config of the recipes (``egs/*/asd1/conf``) has a few hundred
values; a hundred thousand leaves room for long lists and stays a few MB in memory."""
SHOWN_CHARS = 200
"""Ours: the longest value an error message quotes (longer ones are cut, marked ``...``)."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlContentError(ValueError):
    """Valid YAML that a config may not hold (a duplicate key, an alias bomb)."""


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping. Keys are compared
    as written (their tag and text) when the mapping is composed, before a merge brings in
    the keys of another."""

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        lines: Dict[Tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key, line = (key_node.tag, key_node.value), key_node.start_mark.line + 1
            if key in lines:
                where = f"lines {lines[key]} and {line}" if lines[key] != line \
                    else f"on line {line}"
                raise YamlContentError(f"key {shown(key_node.value)} is given twice ({where}); "
                                       "keep one")
            lines[key] = line
        return node


def expanded_size(node, limit: int = MAX_VALUES) -> int:
    """Values (scalars, sequences, mappings) of the document of ``node`` with every alias
    expanded, counted up to just past ``limit``; a node that contains itself counts as
    past it."""
    sizes: Dict[int, int] = {}
    open_nodes = set()

    def size(item) -> int:
        if id(item) in sizes:
            return sizes[id(item)]
        if id(item) in open_nodes:
            return limit + 1
        open_nodes.add(id(item))
        total = 1
        if isinstance(item, yaml.SequenceNode):
            children = item.value
        elif isinstance(item, yaml.MappingNode):
            children = [child for pair in item.value for child in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > limit:
                break
        open_nodes.discard(id(item))
        sizes[id(item)] = min(total, limit + 1)
        return sizes[id(item)]

    return size(node)


def load(stream) -> Any:
    """The one document of ``stream`` (text or an open file), read with
    :class:`StrictLoader`; a :class:`YamlContentError` for a duplicate key or a document
    of more than :data:`MAX_VALUES` values, ``yaml.YAMLError`` for invalid YAML."""
    loader = StrictLoader(stream)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_size(node) > MAX_VALUES:
            raise YamlContentError(
                f"its aliases expand it to more than {MAX_VALUES:,} values (an alias "
                "bomb?); a config is refused beyond that: write its values out")
        return loader.construct_document(node)
    finally:
        loader.dispose()


_REPR = reprlib.Repr()
_REPR.maxlevel = 6
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 40
_REPR.maxstring = _REPR.maxother = SHOWN_CHARS


def shown(value: Any) -> str:
    """``repr(value)`` for an error message, at most :data:`SHOWN_CHARS` characters: built
    with :mod:`reprlib`, so a huge value is never turned into text in full."""
    text = _REPR.repr(value)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS - 3] + "..."
    return text
