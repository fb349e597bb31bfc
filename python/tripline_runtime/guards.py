"""Cheap guards read from a rule's source when they are certain: the opening checks of rule() that return
False unless a field of the event has one of a few constant values, such as

    if not aws_cloudtrail_success(event) or event.get("eventName") != "DeleteTrail":
        return False
    return event.get("eventSource") == "s3.amazonaws.com" and ...

An event whose field has none of those values cannot match, so rule() is not called for it. A guard is
taken only where skipping the call changes nothing but time: everything the rule would evaluate before
it must be free of side effects (reads of the event, comparisons, constants, and calls of functions
whose own bodies are such). Reading the guard's field is done exactly as the rule does it (the same
method, key and default), so its answer is the rule's own."""

import ast
import builtins

# Methods that only read: of the event (and its views) and of the strings and lists read from it.
_READING_METHODS = {
    "get",
    "deep_get",
    "deep_walk",
    "lower",
    "upper",
    "casefold",
    "strip",
    "lstrip",
    "rstrip",
    "startswith",
    "endswith",
    "split",
    "keys",
    "values",
    "items",
    "count",
    "index",
}
_PURE_BUILTINS = {"len", "str", "bool", "int", "float", "isinstance", "any", "all", "set", "frozenset", "tuple", "list"}
_MAX_CALL_DEPTH = 3


class Guard:
    """The rule cannot match unless `method(*keys, default)` on the event gives one of `values`."""

    __slots__ = ("method", "keys", "default", "values", "read_key")

    def __init__(self, method, keys, default, values):
        self.method = method
        self.keys = keys
        self.default = default
        self.values = values
        # Guards that read the same field the same way share one read per event.
        self.read_key = (method, keys, _hashable(default))

    def read(self, view):
        if self.method == "get":
            return view.get(self.keys[0], self.default)
        return view.deep_get(*self.keys, default=self.default)

    def admits(self, value):
        try:
            return value in self.values
        except TypeError:  # an object or a list: the rule decides
            return True

    def spec(self):
        """The guard as the service applies it before sending an event: the field, how it is read, the
        string values admitted, and whether an absent field (the default) is admitted anyway."""
        return {
            "method": self.method,
            "keys": list(self.keys),
            "values": sorted(value for value in self.values if isinstance(value, str)),
            "onlyStrings": all(isinstance(value, str) for value in self.values),
            "defaultAdmitted": self.admits(self.default),
        }

    def describe(self):
        where = ".".join(self.keys)
        shown = sorted(self.values, key=str)
        return f"{where} in {shown[:5]}{'…' if len(shown) > 5 else ''}"


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


class GuardIndex:
    """Rules by the values their first guard admits, per field read: one read and one lookup per event
    and field, however many rules read it."""

    def __init__(self, rules):
        self._fields = {}
        for rule in rules:
            if not rule.guards:
                continue
            first = rule.guards[0]
            field = self._fields.setdefault(first.read_key, (first, {}))
            for value in first.values:
                field[1].setdefault(value, set()).add(rule.key)

    def admitted(self, view):
        """{field read: the keys of the rules whose first guard the event passes, or None for all}."""
        admitted = {}
        for read_key, (guard, by_value) in self._fields.items():
            try:
                value = guard.read(view)
                admitted[read_key] = by_value.get(value, _NONE)
            except Exception:  # pylint: disable=broad-except
                admitted[read_key] = None  # unreadable or unhashable: every rule decides for itself
        return admitted


_NONE = frozenset()


class _Analysis:
    def __init__(self, module, parameter):
        self.module = module
        self.parameter = parameter

    # -- values ----------------------------------------------------------------------------------------

    def constant_set(self, node):
        """The str constants of a literal tuple/list/set, or of a module-level collection; else None."""
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            values = []
            for element in node.elts:
                if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
                    return None
                values.append(element.value)
            return frozenset(values)
        if isinstance(node, ast.Name):
            value = getattr(self.module, node.id, None)
            if isinstance(value, dict):
                value = list(value)
            if isinstance(value, (tuple, list, set, frozenset)) and all(isinstance(item, str) for item in value):
                return frozenset(value)
        return None

    def field_read(self, node):
        """`event.get("k")`, `event.get("k", d)`, `event.deep_get("a", "b", default=d)` → (method, keys,
        default); else None."""
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == self.parameter
            and node.func.attr in ("get", "deep_get")
        ):
            return None
        arguments = node.args
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if None in keywords or any(not isinstance(argument, ast.Constant) for argument in arguments):
            return None
        if any(not isinstance(value, ast.Constant) for value in keywords.values()):
            return None
        if node.func.attr == "get":
            if not 1 <= len(arguments) <= 2 or keywords or not isinstance(arguments[0].value, str):
                return None
            default = arguments[1].value if len(arguments) == 2 else None
            return ("get", (arguments[0].value,), default)
        if set(keywords) - {"default"} or not arguments or not all(isinstance(a.value, str) for a in arguments):
            return None
        default = keywords["default"].value if "default" in keywords else None
        return ("deep_get", tuple(argument.value for argument in arguments), default)

    def guard_from(self, node, holds):
        """The guard a comparison gives when it must come out `holds` for the rule to go on."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.guard_from(node.operand, not holds)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and holds:
            return self.either(node.values)
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            return None
        read = self.field_read(node.left)
        if read is None:
            return None
        operator, right = node.ops[0], node.comparators[0]
        if isinstance(operator, (ast.Eq, ast.NotEq)):
            if not (isinstance(right, ast.Constant) and isinstance(right.value, str)):
                return None
            values = frozenset([right.value])
            must_equal = isinstance(operator, ast.Eq) == holds
        elif isinstance(operator, (ast.In, ast.NotIn)):
            values = self.constant_set(right)
            if values is None:
                return None
            must_equal = isinstance(operator, ast.In) == holds
        else:
            return None
        if not must_equal:
            return None
        method, keys, default = read
        # A missing field reads as the default: if the default is admitted, the guard admits everything.
        if _hashable(default) in values:
            return None
        return Guard(method, keys, default, values)

    def either(self, operands):
        """`a == "x" or a == "y" or a in (…)`, all reading the same field: one guard admitting each."""
        guards = [self.guard_from(operand, holds=True) for operand in operands]
        if any(guard is None for guard in guards) or not all(self.pure(operand) for operand in operands):
            return None
        if len({guard.read_key for guard in guards}) != 1:
            return None
        first = guards[0]
        return Guard(first.method, first.keys, first.default, frozenset().union(*(guard.values for guard in guards)))

    def all_of(self, node):
        """`all([a, b, c])` with the builtin all and a literal list: its elements; else None."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "all"
            and not hasattr(self.module, "all")
            and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], (ast.List, ast.Tuple))
        ):
            return node.args[0].elts
        return None

    # -- purity ----------------------------------------------------------------------------------------

    def pure(self, node, depth=0):
        """Whether evaluating the expression can do nothing but compute a value (or raise)."""
        if isinstance(node, (ast.Constant, ast.Name)):
            return True
        if isinstance(node, ast.Attribute):
            return self.pure(node.value, depth)
        if isinstance(node, ast.BoolOp):
            return all(self.pure(value, depth) for value in node.values)
        if isinstance(node, ast.UnaryOp):
            return self.pure(node.operand, depth)
        if isinstance(node, ast.BinOp):
            return self.pure(node.left, depth) and self.pure(node.right, depth)
        if isinstance(node, ast.Compare):
            return self.pure(node.left, depth) and all(self.pure(item, depth) for item in node.comparators)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(self.pure(element, depth) for element in node.elts)
        if isinstance(node, ast.Subscript):
            return self.pure(node.value, depth) and self.pure(node.slice, depth)
        if isinstance(node, ast.IfExp):
            return all(self.pure(part, depth) for part in (node.test, node.body, node.orelse))
        if isinstance(node, ast.JoinedStr):
            return all(self.pure(value, depth) for value in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.pure(node.value, depth)
        if isinstance(node, ast.Call):
            return self.pure_call(node, depth)
        return False

    def pure_call(self, node, depth):
        if not all(self.pure(argument, depth) for argument in node.args):
            return False
        if not all(keyword.arg is not None and self.pure(keyword.value, depth) for keyword in node.keywords):
            return False
        function = node.func
        if isinstance(function, ast.Attribute):
            return function.attr in _READING_METHODS and self.pure(function.value, depth)
        if isinstance(function, ast.Name):
            target = getattr(self.module, function.id, None)
            if target is None and function.id in _PURE_BUILTINS:
                return getattr(builtins, function.id, None) is not None
            return depth < _MAX_CALL_DEPTH and _pure_function(target, depth + 1)
        return False


def _pure_function(function, depth):
    """A Python function of an uploaded module whose body only reads and computes."""
    code = getattr(function, "__code__", None)
    module = _module_of(function)
    if code is None or module is None:
        return False
    tree = _function_tree(function)
    if tree is None or len(tree.args.args) == 0:
        return False
    analysis = _Analysis(module, tree.args.args[0].arg)
    return _pure_statements(analysis, tree.body, depth)


def _pure_statements(analysis, statements, depth):
    for statement in statements:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Return):
            if statement.value is not None and not analysis.pure(statement.value, depth):
                return False
            continue
        if isinstance(statement, ast.If):
            if not analysis.pure(statement.test, depth):
                return False
            if not _pure_statements(analysis, statement.body, depth):
                return False
            if not _pure_statements(analysis, statement.orelse, depth):
                return False
            continue
        if isinstance(statement, ast.Assign) and all(isinstance(target, ast.Name) for target in statement.targets):
            if not analysis.pure(statement.value, depth):
                return False
            continue
        return False
    return True


# Each uploaded module by name, with the tree of its source: to read its functions back as trees.
_MODULES = {}
_SOURCES = {}


def remember_source(module, source):
    _MODULES[module.__name__] = module
    try:
        _SOURCES[module.__name__] = ast.parse(source)
    except SyntaxError:
        _SOURCES.pop(module.__name__, None)


def forget_sources():
    _MODULES.clear()
    _SOURCES.clear()


def _module_of(function):
    return _MODULES.get(getattr(function, "__module__", None))


def _function_tree(function):
    tree = _SOURCES.get(getattr(function, "__module__", None))
    if tree is None:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function.__name__:
            if node.decorator_list:
                return None
            return node
    return None


def extract_guards(module, source):
    """The guards of the rule() in this module's source: a list, empty when none is certain."""
    tree = ast.parse(source)
    rule = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "rule"), None)
    if rule is None or rule.decorator_list or len(rule.args.args) != 1 or rule.args.vararg or rule.args.kwarg:
        return []
    # Another definition of rule() later in the file would be the one that runs.
    if sum(1 for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "rule") != 1:
        return []
    analysis = _Analysis(module, rule.args.args[0].arg)
    guards = []
    body = rule.body
    for index, statement in enumerate(body):
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.If) and not statement.orelse and _returns_false(statement.body):
            guards += _guards_when_false(analysis, statement.test)
            if not analysis.pure(statement.test):
                break
            continue
        if isinstance(statement, ast.If) and not statement.orelse and _only_returns_false(body[index + 1 :]):
            # `if test: …` then `return False`: the rule can only match inside, where test held.
            guards += _guards_when_true(analysis, statement.test)
            break
        if (
            isinstance(statement, ast.Assign)
            and all(isinstance(target, ast.Name) and target.id != analysis.parameter for target in statement.targets)
            and analysis.pure(statement.value)
        ):
            continue
        if isinstance(statement, ast.Return) and statement.value is not None:
            guards += _guards_when_true(analysis, statement.value)
        break
    return guards


def _only_returns_false(statements):
    return len(statements) >= 1 and _returns_false(statements[:1])


def _returns_false(body):
    return (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is False
    )


def _guards_when_false(analysis, test):
    """Guards that must hold for `test` to be false (the rule goes on past `if test: return False`)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return _each_in_order(analysis, test.values, holds=False)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _guards_when_true(analysis, test.operand)
    guard = analysis.guard_from(test, holds=False)
    return [guard] if guard else []


def _guards_when_true(analysis, value):
    """Guards that must hold for `value` to be true."""
    if isinstance(value, ast.BoolOp) and isinstance(value.op, ast.And):
        return _each_in_order(analysis, value.values, holds=True)
    elements = analysis.all_of(value)
    if elements is not None:
        # The list is built before all() looks at it: every element is evaluated, so a guard from any
        # of them is certain only when none has side effects.
        if not all(analysis.pure(element) for element in elements):
            return []
        return [guard for guard in (analysis.guard_from(element, holds=True) for element in elements) if guard]
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        return _guards_when_false(analysis, value.operand)
    guard = analysis.guard_from(value, holds=True)
    return [guard] if guard else []


def _each_in_order(analysis, operands, holds):
    """`a or b or c` must be false (or `a and b and c` true): each operand must, in the order Python
    evaluates them; an operand after one that may have side effects gives no guard."""
    guards = []
    for operand in operands:
        guard = analysis.guard_from(operand, holds=holds)
        if guard is not None:
            guards.append(guard)
        if not analysis.pure(operand):
            break
    return guards
