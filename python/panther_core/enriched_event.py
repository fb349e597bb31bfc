"""The event a rule function receives: a read-only, case-insensitive view of the log event, with the
readers Panther's rules call on it."""

import copy
from collections.abc import Mapping, Sequence
from .data_model import find_all, find_with_paths
from .immutable import ImmutableCaseInsensitiveDict, _wrap


def _is_list(value):
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


class PantherEvent(ImmutableCaseInsensitiveDict):
    __slots__ = ("data_model",)

    def __init__(self, event, data_model=None):
        super().__init__(event)
        self.data_model = data_model

    def deep_get(self, *keys, default=None):
        """The value under these keys, one object level each; `default` when one is missing or the value
        is None."""
        value = self
        for key in keys:
            # Views are the common case: their class is checked before the (slower) ABC test.
            if value.__class__ is not ImmutableCaseInsensitiveDict and value is not self and not isinstance(value, Mapping):
                return default
            value = value.get(key, default)
        return default if value is None else value

    def deep_walk(self, *keys, default=None, return_val="all"):
        """Like deep_get, but lists on the way are walked into: the values found under every element, in
        order, each once. One value found is returned as itself; `return_val` "first" or "last" picks one."""
        return _walk(self._container, keys, default, return_val)

    def udm(self, *key, default=None):
        """A data-model name (`actor_user`): through the log type's data model (its path, then its method),
        else the normalised `p_udm` field, else the event's own key of that name. As in Panther, a name the
        model maps whose path finds nothing gives `default`, and a falsy value found in `p_udm` or the
        event gives `default` too."""
        model = self.data_model
        if model is not None and len(key) == 1:
            name = key[0]
            steps = model.paths.get(name)
            if steps is not None:
                found = find_all(steps, self._container)
                if not found:
                    return default
                if len(found) > 1:
                    raise Exception(  # pylint: disable=broad-exception-raised
                        f"JSONPath [{model.path_texts[name]}] in DataModel [{model.id}], matched multiple fields."
                    )
                return _wrap(found[0])
            method = model.methods.get(name)
            if method is not None:
                return method(self)
        value = self.deep_get("p_udm", *key)
        if value:
            return value
        value = self.deep_get(*key)
        return value if value else default

    def udm_path(self, key):
        """Where the data model finds this name in this event (`context.client_ip_address`, as Panther
        writes a match's path), the name of the method that computes it, or None."""
        model = self.data_model
        if model is None:
            raise Exception(f"no data model is defined for this event's log type: cannot find the path of {key}")  # pylint: disable=broad-exception-raised
        steps = model.paths.get(key)
        if steps is not None:
            found = find_with_paths(steps, self._container)
            return found[0][1] if len(found) == 1 else None
        method = model.methods.get(key)
        if method is not None:
            return getattr(method, "__name__", None)
        return None

    def event_time_epoch(self, force_utc=True):
        """p_event_time as whole seconds since 1970, read as UTC; 0 when it cannot be read."""
        text = self._container.get("p_event_time") or ""
        return _epoch_seconds(text + " UTC" if force_utc else text)


def _epoch_seconds(text):
    try:
        from dateutil import parser  # pylint: disable=import-outside-toplevel
    except ImportError:  # the worker checks for dateutil at start-up; this keeps the reason visible
        raise ImportError("python-dateutil is not installed (Debian: python3-dateutil)") from None
    try:
        return int(parser.parse(text).timestamp())
    except (parser.ParserError, OverflowError, ValueError):
        return 0


def _walk(value, keys, default, return_val):
    if not keys:
        if _only_empty_lists(value):
            return default
        # The raw value: a copy, since the event is shared by every rule that reads it.
        return copy.deepcopy(value) if isinstance(value, (dict, list)) else value
    if isinstance(value, Mapping):
        following = value.get(keys[0])
        if following is None:
            return default
        return _walk(following, keys[1:], default, return_val)
    found = {}
    if _is_list(value):
        for item in value:
            result = _walk(item, keys, default, return_val)
            if result is None:
                continue
            if _is_list(result):
                for each in result:
                    found[_Hashable(each)] = None
            else:
                found[_Hashable(result)] = None
    values = [entry.value for entry in found]
    if not values:
        return default
    if return_val == "first":
        return values[0]
    if return_val == "last":
        return values[-1]
    return values[0] if len(values) == 1 else values


def _only_empty_lists(value):
    return _is_list(value) and all(_only_empty_lists(item) for item in value)


class _Hashable:
    """Keeps the first of equal values, objects and lists included (which Python cannot hash)."""

    __slots__ = ("value", "_key")

    def __init__(self, value):
        self.value = value
        try:
            hash(value)
            self._key = value
        except TypeError:
            self._key = ("unhashable", repr(value))

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return self._key == other._key
