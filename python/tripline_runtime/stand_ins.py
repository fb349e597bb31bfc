"""Modules the catalogue's helpers import that cannot work in the sandbox (AWS SDKs need the network) or
that this machine does not have. Importing one succeeds, so that the helpers that import them at their
top load; using one fails with an error that says why. Consulted last: an installed module wins."""

import importlib.abc
import importlib.util
import types

STAND_IN_ROOTS = {
    "boto3": "the AWS SDK needs the network, which rules in Tripline's sandbox do not have",
    "botocore": "the AWS SDK needs the network, which rules in Tripline's sandbox do not have",
    "pycountry": "pycountry is not installed on the Tripline server",
}


class UnavailableModuleError(ImportError):
    pass


class _Unavailable:
    """Anything reached through a stand-in: fine to name, an error to call."""

    def __init__(self, name, reason):
        self._name = name
        self._reason = reason

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Unavailable(f"{self._name}.{attribute}", self._reason)

    def __call__(self, *args, **kwargs):
        raise UnavailableModuleError(f"{self._name} cannot be used: {self._reason}")

    def __repr__(self):
        return f"<unavailable {self._name}>"


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] not in STAND_IN_ROOTS:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        reason = STAND_IN_ROOTS[module.__name__.split(".")[0]]
        module.__path__ = []
        module.__tripline_stand_in__ = reason

        def __getattr__(attribute):
            if attribute.startswith("__"):
                raise AttributeError(attribute)
            return _Unavailable(f"{module.__name__}.{attribute}", reason)

        module.__getattr__ = __getattr__


def is_stand_in(module):
    return isinstance(module, types.ModuleType) and hasattr(module, "__tripline_stand_in__")
