"""Data models: for one log type, a name (`actor_user`, `source_ip`…) mapped either to a path into the
event (JSONPath, or a bare top-level key) or to a function of the event in the data model's own Python
source. `event.udm(name)` reads through them."""

import re

_STEP = re.compile(
    r"""
    \.\.(?P<descend>[A-Za-z_@$][\w@$-]*|\*)        # ..key: that key at any depth
  | \.(?P<key>[A-Za-z_@$][\w@$-]*|\*)              # .key or .*
  | \[\s*(?P<index>-?\d+)\s*\]                     # [2]
  | \[\s*\*\s*\]                                   # [*]
  | \[\s*'(?P<single>(?:[^'\\]|\\.)*)'\s*\]        # ['key']
  | \[\s*"(?P<double>(?:[^"\\]|\\.)*)"\s*\]        # ["key"]
    """,
    re.VERBOSE,
)


class PathSyntaxError(ValueError):
    pass


def compile_path(text):
    """The steps of a JSONPath as written in data models: `$.a.b`, `$.a[0]`, `$.a[*].b`, `$..b`,
    `$['a b']`, or a bare key (`userAgent`), which is that top-level key."""
    text = text.strip()
    if not text.startswith("$"):
        return (("key", text),)
    steps = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise PathSyntaxError(f"cannot read the JSONPath {text!r} at character {position + 1}")
        if match.group("descend") is not None:
            steps.append(("descend", match.group("descend")))
        elif match.group("key") is not None:
            name = match.group("key")
            steps.append(("all", None) if name == "*" else ("key", name))
        elif match.group("index") is not None:
            steps.append(("index", int(match.group("index"))))
        elif match.group("single") is not None:
            steps.append(("key", re.sub(r"\\(.)", r"\1", match.group("single"))))
        elif match.group("double") is not None:
            steps.append(("key", re.sub(r"\\(.)", r"\1", match.group("double"))))
        else:
            steps.append(("all", None))
        position = match.end()
    return tuple(steps)


def _is_list_view(value):
    from .immutable import ImmutableList

    return isinstance(value, ImmutableList)


def find_all(steps, root):
    """Every value the path reaches, in document order."""
    return [value for value, _ in find_with_paths(steps, root)]


def find_with_paths(steps, root):
    """Every value the path reaches, each with where it was found, written as Panther writes a match's
    full path: keys joined with dots, list positions as `[n]` (`a.[0].b`)."""
    current = [(root, ())]
    for kind, argument in steps:
        following = []
        for value, where in current:
            if kind == "key":
                if _is_object(value) and argument in value:
                    following.append((value[argument], where + (argument,)))
            elif kind == "index":
                if _is_sequence(value) and -len(value) <= argument < len(value):
                    position = argument if argument >= 0 else argument + len(value)
                    following.append((value[position], where + (f"[{position}]",)))
            elif kind == "all":
                following.extend(_children_with_paths(value, where))
            elif kind == "descend":
                for found, found_where in _descendants_with_paths(value, where):
                    if argument == "*":
                        following.extend(_children_with_paths(found, found_where))
                    elif _is_object(found) and argument in found:
                        following.append((found[argument], found_where + (argument,)))
        current = following
    return [(value, ".".join(where)) for value, where in current]


def _is_object(value):
    return hasattr(value, "keys") and hasattr(value, "__getitem__")


def _is_sequence(value):
    return isinstance(value, (list, tuple)) or _is_list_view(value)


def _children_with_paths(value, where):
    if _is_object(value):
        return [(value[key], where + (str(key),)) for key in value.keys()]
    if _is_sequence(value):
        return [(item, where + (f"[{index}]",)) for index, item in enumerate(value)]
    return []


def _descendants_with_paths(value, where):
    yield value, where
    for child, child_where in _children_with_paths(value, where):
        yield from _descendants_with_paths(child, child_where)


class DataModel:
    def __init__(self, data_model_id, paths, methods):
        """paths: {name: JSONPath text}; methods: {name: function(event)}."""
        self.id = data_model_id
        self.path_texts = dict(paths)
        self.paths = {name: compile_path(text) for name, text in paths.items()}
        self.methods = dict(methods)
