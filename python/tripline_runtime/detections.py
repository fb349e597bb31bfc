"""Python rules as loaded modules, and what running one on an event gives: whether it matched and, when
it did, the outputs of its optional functions. Every exception a rule raises becomes an error of that rule
(with the function and the line), never of the batch."""

import json
import traceback

from panther_core.immutable import plain

from .guards import extract_guards
from .sources import module_from_source
from .timing import RuleTimeout

# Panther's optional rule functions and the output each one gives.
OUTPUT_FUNCTIONS = (
    ("title", "title"),
    ("dedup", "dedup"),
    ("alert_context", "alertContext"),
    ("severity", "severity"),
    ("description", "description"),
    ("reference", "reference"),
    ("runbook", "runbook"),
    ("destinations", "destinations"),
)
KNOWN_FUNCTIONS = ("rule",) + tuple(name for name, _ in OUTPUT_FUNCTIONS) + ("unique",)

SEVERITIES = {"INFO": "Info", "LOW": "Low", "MEDIUM": "Medium", "HIGH": "High", "CRITICAL": "Critical"}
# What a rule's alert_context may take as JSON; past it the context is replaced by an error, as Panther does.
MAX_ALERT_CONTEXT_BYTES = 200 * 1024


class RuleError(Exception):
    """A rule function failed: `function` is its name, the message says where and why."""

    def __init__(self, function, message):
        super().__init__(message)
        self.function = function


# Modules Panther's helpers import that Debian packages; a missing one is named with what to install.
_DEBIAN_PACKAGES = {
    "dateutil": "python3-dateutil",
    "pycountry": "python3-pycountry",
    "yaml": "python3-yaml",
    "requests": "python3-requests",
    "jsonpath_ng": "python3-jsonpath-ng",
}


def _install_hint(error):
    top = (error.name or "").split(".")[0]
    package = _DEBIAN_PACKAGES.get(top)
    if package:
        return f"; install it on the host: apt-get install {package}"
    return "; the sandbox has Python's standard library, the host's Debian python3-* packages and Tripline's own modules"


def describe_exception(error, file_name):
    """`NameError: name 'x' is not defined (rule.py, line 12)`: the last frame inside the rule's own
    source (or the innermost frame when none is)."""
    frames = traceback.extract_tb(error.__traceback__)
    inside = [frame for frame in frames if frame.filename == file_name]
    frame = inside[-1] if inside else (frames[-1] if frames else None)
    where = f" ({frame.filename}, line {frame.lineno})" if frame is not None else ""
    if isinstance(error, SyntaxError) and error.lineno is not None:
        where = f" ({error.filename or file_name}, line {error.lineno})"
        return f"SyntaxError: {error.msg}{where}"
    hint = _install_hint(error) if isinstance(error, ModuleNotFoundError) else ""
    return f"{type(error).__name__}: {error}{where}{hint}"


class PythonRule:
    def __init__(self, rule_id, source, file_name, log_types, module_name, clock):
        self.rule_id = rule_id
        # What requests name this version by (its module's name): several versions of a rule may be loaded.
        self.key = module_name
        self.file_name = file_name
        self.log_types = list(log_types)
        self.clock = clock
        self.module = module_from_source(module_name, source, file_name)
        function = getattr(self.module, "rule", None)
        if not callable(function):
            raise RuleError("rule", f"{file_name} defines no rule(event) function")
        self.functions = [name for name in KNOWN_FUNCTIONS if callable(getattr(self.module, name, None))]
        try:
            self.guards = extract_guards(self.module, source)
        except Exception:  # pylint: disable=broad-except
            self.guards = []  # a guard is an optimisation: without one, rule() decides every event

    def call(self, function, event):
        """Runs one of the rule's functions under the per-call time limit."""
        target = getattr(self.module, function)
        clock = self.clock
        clock.start(f"{self.rule_id}.{function}()")
        try:
            return target(event)
        except RuleTimeout as error:
            raise RuleError(function, f"{function}(): RuleTimeout: {error}") from None
        except BaseException as error:  # pylint: disable=broad-except
            # SystemExit and the like too: a rule ends its own call, never the worker.
            raise RuleError(function, f"{function}(): {describe_exception(error, self.file_name)}") from None
        finally:
            clock.stop()

    def matches(self, event):
        result = self.call("rule", event)
        if not isinstance(result, bool):
            raise RuleError("rule", f"rule() returned {type(result).__name__}, not bool")
        return result

    def outputs(self, event):
        """What the optional functions give, each checked; and the errors of those that failed, by
        function. A failed function leaves its output to the rule's metadata, as Panther does."""
        outputs = {}
        errors = {}
        defined = self.functions
        for function, output in OUTPUT_FUNCTIONS:
            if function not in defined:
                continue
            try:
                value = self.call(function, event)
                checked = _check_output(function, value)
            except RuleError as error:
                errors[function] = str(error)
                continue
            except (TypeError, ValueError) as error:
                errors[function] = f"{function}(): {error}"
                continue
            if checked is not None:
                outputs[output] = checked
        # No dedup(): the title stands in for it (Panther), cut to the same length by Node.
        if "dedup" not in outputs and "title" in outputs and "dedup" not in errors:
            outputs["dedup"] = outputs["title"]
        return outputs, errors


def _check_output(function, value):
    if function in ("title", "dedup", "description", "reference", "runbook"):
        if value is None:
            return None
        if not isinstance(value, str):
            value = str(value)
        return value
    if function == "severity":
        if not isinstance(value, str):
            raise TypeError(f"severity() returned {type(value).__name__}, not a severity name")
        upper = value.upper()
        if upper == "DEFAULT":
            return None
        if upper not in SEVERITIES:
            raise ValueError(f"severity() returned {value!r}, not one of {', '.join(SEVERITIES)} or DEFAULT")
        return SEVERITIES[upper]
    if function == "alert_context":
        if value is None:
            return None
        value = plain(value)
        if not isinstance(value, dict):
            raise TypeError(f"alert_context() returned {type(value).__name__}, not a dict")
        text = json.dumps(value, default=_text_of)
        if len(text.encode("utf-8")) > MAX_ALERT_CONTEXT_BYTES:
            raise ValueError(f"alert_context() returned {len(text)} characters of JSON, more than {MAX_ALERT_CONTEXT_BYTES}")
        return json.loads(text)
    if function == "destinations":
        if value is None:
            return None
        value = plain(value)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise TypeError("destinations() must return a list of strings")
        return value
    return value


def _text_of(value):
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)
