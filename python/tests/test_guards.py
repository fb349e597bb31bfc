"""Guards read from rule sources: taken only where they are certain."""

import types
import unittest

from panther_core import PantherEvent
from tripline_runtime.guards import extract_guards, remember_source


def guards_of(source, name="test_rule"):
    module = types.ModuleType(name)
    remember_source(module, source)
    exec(compile(source, name, "exec"), module.__dict__)  # pylint: disable=exec-used
    return extract_guards(module, source)


class GuardTest(unittest.TestCase):
    def test_reads_the_opening_checks(self):
        source = """
WATCHED = {"DeleteTrail", "StopLogging"}

def succeeded(event):
    if event.get("errorCode", ""):
        return False
    return True

def rule(event):
    if not succeeded(event) or event.get("eventName") not in WATCHED:
        return False
    return event.deep_get("userIdentity", "type", default="") == "Root" and event.get("x") is None
"""
        guards = guards_of(source)
        self.assertEqual([guard.describe() for guard in guards], ["eventName in ['DeleteTrail', 'StopLogging']", "userIdentity.type in ['Root']"])
        event = PantherEvent({"eventname": "DeleteTrail"})
        self.assertIn(guards[0].read(event), guards[0].values)  # read as the rule reads it: ignoring case

    def test_takes_nothing_after_a_call_that_may_write(self):
        source = """
from unittest import mock
seen = []

def remember(event):
    seen.append(event)
    return True

def rule(event):
    if not remember(event) or event.get("eventName") != "X":
        return False
    return True
"""
        self.assertEqual(guards_of(source), [])

    def test_takes_nothing_that_a_missing_field_would_pass(self):
        self.assertEqual(guards_of('def rule(event):\n    return event.get("a", "x") in ("x", "y")\n'), [])
        self.assertEqual(guards_of('def rule(event):\n    return event.get("a") != "x"\n'), [])
        self.assertEqual(guards_of('def rule(event):\n    if event.get("a") == "x":\n        return True\n    return event.get("b") == "y"\n'), [])


if __name__ == "__main__":
    unittest.main()
