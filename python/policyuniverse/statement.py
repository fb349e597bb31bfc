"""One statement of an IAM policy: who it names and which of its conditions limit who that is."""

import re
from collections import namedtuple

from .arn import reaches_anyone

ConditionTuple = namedtuple("Condition", "category value")
PrincipalTuple = namedtuple("Principal", "category value")

# Condition keys that narrow who a statement applies to, by what they name.
_LIMITING_KEYS = {
    "aws:sourcearn": "arn",
    "aws:principalarn": "arn",
    "aws:sourceowner": "account",
    "aws:sourceaccount": "account",
    "aws:principalaccount": "account",
    "aws:resourceaccount": "account",
    "kms:calleraccount": "account",
    "aws:userid": "userid",
    "aws:sourceip": "cidr",
    "aws:sourcevpc": "vpc",
    "aws:sourcevpce": "vpce",
    "aws:principalorgid": "organization",
    "aws:principalorgpaths": "organization",
}

# Only operators that require a match limit anyone; a negated one (StringNotEquals…) does not.
_LIMITING_OPERATOR = re.compile(
    r"^((ForAllValues|ForAnyValue):)?(Arn(Equals|Like)|String(Equals|Like)(IgnoreCase)?|IpAddress)(IfExists)?$",
    re.IGNORECASE,
)


def _as_list(value):
    return value if isinstance(value, list) else [value]


class Statement:
    def __init__(self, statement):
        self.statement = statement if isinstance(statement, dict) else {}
        self.condition_entries = self._limiting_conditions()
        self.principals = self._named_principals()
        self.actions = set(_as_list(self.statement.get("Action")))

    @property
    def effect(self):
        return self.statement.get("Effect")

    @property
    def resources(self):
        if "NotResource" in self.statement:
            return {"*"}
        return set(_as_list(self.statement.get("Resource")))

    def uses_not_principal(self):
        return "NotPrincipal" in self.statement

    def _named_principals(self):
        principal = self.statement.get("Principal")
        if not principal:
            return set()
        if isinstance(principal, dict):
            named = set()
            for kind in ("AWS", "Service"):
                if kind in principal:
                    named.update(_as_list(principal[kind]))
            return named
        return set(_as_list(principal))

    def _limiting_conditions(self):
        entries = []
        condition = self.statement.get("Condition")
        if not isinstance(condition, dict):
            return entries
        for operator, keys in condition.items():
            if not _LIMITING_OPERATOR.match(operator) or not isinstance(keys, dict):
                continue
            for key, values in keys.items():
                category = _LIMITING_KEYS.get(key.lower())
                if category is None:
                    continue
                for value in _as_list(values):
                    entries.append(ConditionTuple(category=category, value=value))
        return entries

    def whos_allowed(self):
        allowed = {PrincipalTuple(category="principal", value=principal) for principal in self.principals}
        return allowed.union(self.condition_entries)

    def is_internet_accessible(self):
        if self.effect != "Allow":
            return False
        if not self.is_condition_internet_accessible():
            return False
        if self.uses_not_principal():
            return True
        return any(reaches_anyone(principal) for principal in self.principals if isinstance(principal, str))

    def is_condition_internet_accessible(self):
        """True without limiting conditions, or when one of them still lets anyone in."""
        if not self.condition_entries:
            return True
        return any(_entry_reaches_anyone(entry) for entry in self.condition_entries)


def _entry_reaches_anyone(entry):
    value = entry.value if isinstance(entry.value, str) else str(entry.value)
    if entry.category == "arn":
        return reaches_anyone(value)
    if entry.category == "cidr":
        return value.endswith("/0")
    if entry.category == "userid":
        # A trailing wildcard (`AROA…:*`) still names one role.
        return "*" in value and value.index("*") != len(value) - 1
    return "*" in value
