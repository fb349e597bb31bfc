"""An IAM policy document as a list of statements."""

from collections.abc import Mapping, Sequence

from .statement import Statement


def _plain(value):
    """Plain dicts and lists from any mappings and sequences (a rule often passes a read-only view of
    its event)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_plain(item) for item in value]
    return value


class Policy:
    def __init__(self, policy):
        policy = _plain(policy)
        self.policy = policy if isinstance(policy, dict) else {}
        statements = self.policy.get("Statement", [])
        self.statements = [Statement(statement) for statement in (statements if isinstance(statements, list) else [statements])]

    @property
    def principals(self):
        return set().union(*(statement.principals for statement in self.statements))

    @property
    def condition_entries(self):
        return set().union(*(statement.condition_entries for statement in self.statements))

    def is_internet_accessible(self):
        return any(statement.is_internet_accessible() for statement in self.statements)

    def internet_accessible_actions(self):
        return set().union(*(statement.actions for statement in self.statements if statement.is_internet_accessible()))

    def whos_allowed(self):
        return set().union(*(statement.whos_allowed() for statement in self.statements if statement.effect == "Allow"))
