"""What a worker holds (helpers, data models, rules) and the requests it answers: load, evaluate, test.
Nothing a rule does ends the loop: every failure is an answer."""

import sys
from unittest.mock import MagicMock, patch

from panther_core import PantherEvent
from panther_core.data_model import DataModel, PathSyntaxError

from .detections import PythonRule, RuleError, describe_exception
from .guards import GuardIndex, forget_sources
from .sources import HelperFinder, module_from_source


class Runtime:
    def __init__(self, clock):
        self.clock = clock
        self.helpers = HelperFinder()
        sys.meta_path.insert(0, self.helpers)
        self.rules = {}
        self.data_models = {}
        self.generation = 0
        self.use_guards = True
        self.guard_index = GuardIndex([])

    # -- load ------------------------------------------------------------------------------------------

    def load(self, message):
        """Replaces every helper, data model and rule with the ones sent; says what failed, by name."""
        self.generation += 1
        self.use_guards = message.get("guards", True)
        forget_sources()
        self.helpers.replace_all(
            {helper["name"]: (helper["source"], helper.get("file") or f"{helper['name']}.py") for helper in message.get("helpers", [])}
        )
        helper_errors = {}
        for name in self.helpers.names():
            # Top-level code runs under the per-call limit too: a module that never finishes importing
            # is that module's error, not the worker's end.
            self.clock.start(f"importing {self.helpers.file_of(name)}")
            try:
                __import__(name)
            except BaseException as error:  # pylint: disable=broad-except
                helper_errors[name] = describe_exception(error, self.helpers.file_of(name))
            finally:
                self.clock.stop()
        self.data_models = {}
        model_errors = {}
        for model in message.get("dataModels", []):
            self.clock.start(f"loading data model {model['id']}")
            try:
                built = self._data_model(model)
            except BaseException as error:  # pylint: disable=broad-except
                model_errors[model["id"]] = describe_exception(error, model.get("file") or "")
                continue
            finally:
                self.clock.stop()
            for log_type in model.get("logTypes", []):
                self.data_models[log_type] = built
        self.rules = {}
        rule_errors = {}
        rule_functions = {}
        rule_guards = {}
        guard_specs = {}
        for rule in message.get("rules", []):
            file_name = rule.get("file") or f"{rule['id']}.py"
            self.clock.start(f"loading {file_name}")
            try:
                # Errors and time limits name the rule by its RuleID; its module, by the key of this version.
                loaded = PythonRule(rule.get("name") or rule["id"], rule["source"], file_name, rule.get("logTypes", []), rule["id"], self.clock)
            except RuleError as error:
                rule_errors[rule["id"]] = str(error)
                continue
            except BaseException as error:  # pylint: disable=broad-except
                rule_errors[rule["id"]] = describe_exception(error, file_name)
                continue
            finally:
                self.clock.stop()
            self.rules[rule["id"]] = loaded
            rule_functions[rule["id"]] = loaded.functions
            if loaded.guards:
                rule_guards[rule["id"]] = [guard.describe() for guard in loaded.guards]
                if self.use_guards:
                    guard_specs[rule["id"]] = [guard.spec() for guard in loaded.guards]
        self.guard_index = GuardIndex(self.rules.values())
        return {
            "generation": self.generation,
            "helperErrors": helper_errors,
            "dataModelErrors": model_errors,
            "ruleErrors": rule_errors,
            "ruleFunctions": rule_functions,
            "ruleGuards": rule_guards,
            "guardSpecs": guard_specs,
        }

    def _data_model(self, model):
        methods = {}
        module = None
        if model.get("source"):
            module = module_from_source(f"datamodel:{model['id']}", model["source"], model.get("file") or f"{model['id']}.py")
        paths = {}
        for mapping in model.get("mappings", []):
            name = mapping["name"]
            if "method" in mapping:
                function = getattr(module, mapping["method"], None) if module is not None else None
                if not callable(function):
                    raise NameError(f"data model {model['id']}: method {mapping['method']} of {name} is not defined in its source")
                methods[name] = function
            else:
                paths[name] = mapping["path"]
        try:
            return DataModel(model["id"], paths, methods)
        except PathSyntaxError as error:
            raise ValueError(f"data model {model['id']}: {error}") from None

    # -- evaluate --------------------------------------------------------------------------------------

    def event_for(self, raw, log_type=None):
        kind = raw.get("p_log_type") if isinstance(raw, dict) else None
        if not isinstance(kind, str):
            kind = log_type
        return PantherEvent(raw, self.data_models.get(kind))

    def evaluate(self, message):
        """requests: [[event index, list index]], each list a list of positions in `rules` (rule ids).
        Answers only what is not a plain "no": matches with their outputs, and errors, each as
        [request index, position in its list, …]."""
        events = message["events"]
        table = [self.rules.get(rule_id) for rule_id in message["rules"]]
        lists = [[(message["rules"][position], table[position]) for position in listed] for listed in message["lists"]]
        log_types = message.get("logTypes") or []
        matches = []
        errors = []
        views = {}
        reads_by_event = {}
        admitted_by_event = {}
        use_guards = self.use_guards
        plans = [self._plan(entries, use_guards) for entries in lists]
        for position, (event_index, list_index) in enumerate(message["requests"]):
            view = views.get(event_index)
            if view is None:
                raw = events[event_index]
                log_type = log_types[event_index] if event_index < len(log_types) else None
                view = views[event_index] = self.event_for(raw, log_type)
            reads = reads_by_event.get(event_index)
            if reads is None:
                reads = reads_by_event[event_index] = {}
                admitted = admitted_by_event[event_index] = self.guard_index.admitted(view) if use_guards else {}
            else:
                admitted = admitted_by_event[event_index]
            entries = lists[list_index]
            for rule_position in _candidates(plans[list_index], admitted):
                rule_id, rule = entries[rule_position]
                if rule is None:
                    errors.append([position, rule_position, f"rule {rule_id} is not loaded in this worker"])
                    continue
                if use_guards and len(rule.guards) > 1 and not _guards_admit(rule.guards[1:], view, reads):
                    continue
                try:
                    if not rule.matches(view):
                        continue
                except RuleError as error:
                    errors.append([position, rule_position, str(error)])
                    continue
                outputs, function_errors = rule.outputs(view)
                matches.append([position, rule_position, outputs, function_errors])
        return {"matches": matches, "errors": errors}

    @staticmethod
    def _plan(entries, use_guards):
        """A list's rules split once per request: the positions every event goes to (no guard), and per
        field read, the guarded rules by key with their positions, so that an event visits only the rules
        its guard values admit instead of every rule of the list."""
        always = []
        by_field = {}
        for position, (rule_id, rule) in enumerate(entries):
            if use_guards and rule is not None and rule.guards:
                by_field.setdefault(rule.guards[0].read_key, {})[rule_id] = position
            else:
                always.append(position)
        return always, list(by_field.items())

    # -- test ------------------------------------------------------------------------------------------

    def test(self, message):
        """One unit test of one rule, its Mocks applied to the rule's module as Panther's tool applies
        them (each name replaced by a MagicMock returning the value as written)."""
        rule = self.rules.get(message["rule"])
        if rule is None:
            return {"error": f"rule {message['rule']} is not loaded"}
        mocks = {}
        for mock in message.get("mocks") or []:
            name = mock.get("objectName")
            if isinstance(name, str) and "returnValue" in mock:
                mocks[name] = MagicMock(return_value=mock["returnValue"])
        missing = [name for name in mocks if not hasattr(rule.module, name)]
        if missing:
            return {"error": f"Mocks: {', '.join(missing)} is not a name in {rule.file_name}"}
        view = self.event_for(message["log"], message.get("logType") or (rule.log_types[0] if rule.log_types else None))
        with patch.multiple(rule.module, **mocks) if mocks else _nothing():
            try:
                matched = rule.matches(view)
            except RuleError as error:
                return {"error": str(error)}
            if not matched:
                return {"matched": False}
            outputs, function_errors = rule.outputs(view)
        return {"matched": True, "outputs": outputs, "errors": function_errors}


def _candidates(plan, admitted):
    """The positions of a list's rules that an event's first-guard values admit, in list order."""
    always, by_field = plan
    if not by_field:
        return always
    positions = list(always)
    for read_key, members in by_field:
        passed = admitted.get(read_key)
        if passed is None:  # the field could not be read: every rule decides for itself
            positions.extend(members.values())
        elif len(passed) < len(members):
            positions.extend(members[key] for key in passed if key in members)
        else:
            positions.extend(position for key, position in members.items() if key in passed)
    positions.sort()
    return positions


def _guards_admit(guards, view, reads):
    """Whether the event passes every guard of the rule; each field is read once per event."""
    for guard in guards:
        key = guard.read_key
        if key in reads:
            value = reads[key]
        else:
            try:
                value = guard.read(view)
            except Exception:  # pylint: disable=broad-except
                return True  # the rule itself will say what is wrong
            reads[key] = value
        if not guard.admits(value):
            return False
    return True


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
