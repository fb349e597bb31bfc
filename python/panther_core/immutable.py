"""Read-only views of an event's objects and lists, as Panther's rules see them. Objects find their keys
ignoring case when no key matches exactly; what they hold is wrapped the same way on access (and once);
`copy()` gives a plain, mutable, deep copy. One event is shared by every rule that reads it, which is why
nothing here can change it."""

from collections.abc import Mapping, Sequence
import copy as _copy


_MISSING = object()

# Values returned as they are: nothing to wrap (checked by class, the common case, before isinstance).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _wrap(value):
    if value.__class__ is dict or isinstance(value, dict):
        return ImmutableCaseInsensitiveDict(value)
    if isinstance(value, list):
        return ImmutableList(value)
    return value


def plain(value):
    """A deep, mutable, JSON-shaped copy of a view (or of anything holding views)."""
    if value.__class__ in _SCALARS:
        return value
    if isinstance(value, ImmutableDict):
        return _copy.deepcopy(value._container)
    if isinstance(value, ImmutableList):
        return _copy.deepcopy(list(value._container))
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


class ImmutableDict(Mapping):
    """A read-only object: keys as written."""

    __slots__ = ("_container", "_views")

    def __init__(self, container):
        if container.__class__ is dict:
            pass  # the common case: an object of the event
        elif isinstance(container, ImmutableDict):
            container = container._container
        elif not isinstance(container, dict):
            container = dict(container)
        self._container = container
        self._views = None

    def _key(self, key):
        return key

    def _find(self, key):
        """The key as stored, or _MISSING: a miss without raising (get() misses often)."""
        return key if key in self._container else _MISSING

    def __getitem__(self, key):
        found = self._key(key)
        return self._read(found, self._container[found])

    def _read(self, key, value):
        """A stored value as rules see it: objects and lists as views, made once per key."""
        kind = value.__class__
        if kind in _SCALARS or not (kind is dict or kind is list or isinstance(value, (dict, list))):
            return value
        views = self._views
        if views is None:
            views = self._views = {}
        view = views.get(key)
        if view is None:
            view = views[key] = _wrap(value)
        return view

    def get(self, key, default=None):
        # Mapping.get without __getitem__'s KeyError on a miss: rules call get() more than anything else.
        container = self._container
        if key in container:
            return self._read(key, container[key])
        found = self._find(key)
        return default if found is _MISSING else self._read(found, container[found])

    def __iter__(self):
        return iter(self._container)

    def __len__(self):
        return len(self._container)

    def __contains__(self, key):
        return self._find(key) is not _MISSING

    def __setitem__(self, key, value):
        raise TypeError(f"{type(self).__name__} is read-only: use .copy() for a mutable copy")

    def __delitem__(self, key):
        raise TypeError(f"{type(self).__name__} is read-only: use .copy() for a mutable copy")

    def __eq__(self, other):
        if isinstance(other, ImmutableDict):
            return self._container == other._container
        if isinstance(other, Mapping):
            return self._container == plain(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return repr(self._container)

    def copy(self):
        return _copy.deepcopy(self._container)

    def to_dict(self):
        return _copy.deepcopy(self._container)

    def __deepcopy__(self, memo):
        return _copy.deepcopy(self._container, memo)


class ImmutableCaseInsensitiveDict(ImmutableDict):
    """A read-only object whose keys are found ignoring case when none matches exactly."""

    __slots__ = ("_folded",)

    def __init__(self, container):
        super().__init__(container)
        self._folded = None

    def _key(self, key):
        found = self._find(key)
        if found is _MISSING:
            raise KeyError(key)
        return found

    def _find(self, key):
        container = self._container
        if key in container:
            return key
        if key.__class__ is str or isinstance(key, str):
            folded = self._folded
            if folded is None:
                folded = {}
                for original in container:
                    if original.__class__ is str or isinstance(original, str):
                        # The first key written wins when two differ only in case.
                        folded.setdefault(original.lower(), original)
                self._folded = folded
            return folded.get(key.lower(), _MISSING)
        return _MISSING


class ImmutableList(Sequence):
    """A read-only list; objects and lists in it are views too."""

    __slots__ = ("_container", "_views")

    def __init__(self, container):
        if isinstance(container, ImmutableList):
            container = container._container
        elif not isinstance(container, list):
            container = list(container)
        self._container = container
        self._views = None

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ImmutableList(self._container[index])
        value = self._container[index]
        if isinstance(value, (dict, list)):
            views = self._views
            if views is None:
                views = self._views = {}
            position = index if index >= 0 else index + len(self._container)
            view = views.get(position)
            if view is None:
                view = views[position] = _wrap(value)
            return view
        return value

    def __len__(self):
        return len(self._container)

    def __iter__(self):
        for index in range(len(self._container)):
            yield self[index]

    def __contains__(self, value):
        return any(item == value for item in self)

    def __eq__(self, other):
        if isinstance(other, ImmutableList):
            return self._container == other._container
        if isinstance(other, (list, tuple)):
            return self._container == plain(list(other))
        return NotImplemented

    __hash__ = None

    def __add__(self, other):
        return plain(self) + list(plain(other))

    def __radd__(self, other):
        return list(plain(other)) + plain(self)

    def __repr__(self):
        return repr(self._container)

    def copy(self):
        return _copy.deepcopy(self._container)

    def __deepcopy__(self, memo):
        return _copy.deepcopy(self._container, memo)
