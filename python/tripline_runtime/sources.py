"""Python modules made from uploaded sources, never from files: global helpers are importable by their
module name (`from panther_base_helpers import deep_get`), in any order, as Panther's tool makes them;
rules and data models become modules of their own that nothing else imports."""

import importlib.abc
import importlib.util
import sys
import types

from .guards import remember_source


class HelperFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the uploaded global helpers to `import`. Put first on sys.meta_path, so that an uploaded
    helper wins over a module of the same name on the machine, as the uploaded content is what the user
    tested against."""

    def __init__(self):
        self._sources = {}

    def replace_all(self, helpers):
        """helpers: {module name: (source, file name)}. Modules of the previous set are forgotten, so that
        the rules compiled next import the new ones."""
        for name in self._sources:
            sys.modules.pop(name, None)
        self._sources = dict(helpers)

    def names(self):
        return sorted(self._sources)

    def file_of(self, name):
        return self._sources[name][1]

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self._sources:
            return None
        return importlib.util.spec_from_loader(fullname, self, origin=self._sources[fullname][1])

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source, file_name = self._sources[module.__name__]
        module.__file__ = file_name
        remember_source(module, source)
        exec(compile(source, file_name, "exec"), module.__dict__)


def module_from_source(name, source, file_name):
    """A module holding what the source defines. Raises what compiling or running its top level
    raises (SyntaxError, ImportError, anything the code throws)."""
    module = types.ModuleType(name)
    module.__file__ = file_name
    code = compile(source, file_name, "exec")
    remember_source(module, source)
    exec(code, module.__dict__)
    return module
