"""Panther's key-value cache for rules (counters, string sets, dictionaries, each with an expiry), kept by
the Tripline service in its database and shared by every worker and instance. Each call is one request to
the service over the worker's pipe; the names, arguments and results are Panther's."""

import json
import time
from collections.abc import Mapping

_DEFAULT_TTL_SECONDS = 90 * 24 * 60 * 60
# Panther reads an expiry below a week and a second as seconds from now, anything larger as epoch seconds.
_RELATIVE_TTL_LIMIT = 604801

_bridge = None


class CacheUnavailable(RuntimeError):
    pass


def _install_bridge(bridge):
    """Called by the worker: bridge(operation, arguments) -> result."""
    global _bridge  # pylint: disable=global-statement
    _bridge = bridge


def _call(operation, **arguments):
    if _bridge is None:
        raise CacheUnavailable("the rule cache is reached through the Tripline service, which is not connected")
    return _bridge(operation, arguments)


def _expiry(epoch_seconds):
    now = int(time.time())
    if epoch_seconds is None:
        return now + _DEFAULT_TTL_SECONDS
    seconds = int(float(epoch_seconds))
    return now + seconds if seconds < _RELATIVE_TTL_LIMIT else seconds


def _key(key):
    if not isinstance(key, str) or key == "":
        raise ValueError("a cache key is a non-empty string")
    return key


def ttl_expired(response):
    expires = response.get("expiresAt") if isinstance(response, Mapping) else None
    return expires is not None and int(expires) < int(time.time())


def get_counter(key, force_ttl_check=False):  # pylint: disable=unused-argument
    return int(_call("get_counter", key=_key(key)))


def increment_counter(key, val=1, epoch_seconds=None):
    return int(_call("increment_counter", key=_key(key), by=int(val), expiresAt=_expiry(epoch_seconds)))


def reset_counter(key):
    _call("reset", key=_key(key), kind="counter")


def set_key_expiration(key, epoch_seconds):
    _call("expire", key=_key(key), expiresAt=_expiry(epoch_seconds))


def put_dictionary(key, val, epoch_seconds=None):
    if not isinstance(val, Mapping):
        raise TypeError("put_dictionary takes a dictionary")
    try:
        text = json.dumps(dict(val))
    except TypeError as error:
        raise ValueError(f"the dictionary is not JSON: {error}") from None
    _call("put_dictionary", key=_key(key), value=json.loads(text), expiresAt=_expiry(epoch_seconds))


def get_dictionary(key, force_ttl_check=False):  # pylint: disable=unused-argument
    value = _call("get_dictionary", key=_key(key))
    return value if isinstance(value, dict) else {}


def get_string_set(key, force_ttl_check=False):  # pylint: disable=unused-argument
    return set(_call("get_string_set", key=_key(key)) or [])


def _strings(val):
    if isinstance(val, str):
        return [val]
    values = [str(item) for item in val]
    return values


def put_string_set(key, val, epoch_seconds=None):
    values = _strings(val)
    if not values:
        reset_string_set(key)
        return
    _call("put_string_set", key=_key(key), values=values, expiresAt=_expiry(epoch_seconds))


def add_to_string_set(key, val, epoch_seconds=None):
    values = _strings(val)
    return set(_call("add_to_string_set", key=_key(key), values=values, expiresAt=_expiry(epoch_seconds)))


def remove_from_string_set(key, val, epoch_seconds=None):
    values = _strings(val)
    return set(
        _call("remove_from_string_set", key=_key(key), values=values, expiresAt=_expiry(epoch_seconds))
    )


def reset_string_set(key):
    _call("reset", key=_key(key), kind="string_set")


def evaluate_threshold(key, threshold=10, expiry_seconds=3600):
    """Counts one more; True (and the count starts again) once it reaches the threshold."""
    count = increment_counter(key, 1, expiry_seconds)
    if count >= threshold:
        reset_counter(key)
        return True
    return False


def check_account_age(key):
    """Whether the string set under this key (an account seen recently) holds anything."""
    if isinstance(key, str) and key != "":
        return bool(get_string_set(key))
    return False
