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


class MoreShapesTest(unittest.TestCase):
    def test_reads_all_of_a_list_an_if_before_return_false_and_either_of_two_values(self):
        listed = guards_of(
            'def rule(event):\n'
            '    kind = event.deep_get("userIdentity", "type") == "AWSService"\n'
            '    return all([event.get("eventName") == "AssumeRole", not kind])\n'
        )
        self.assertEqual([guard.describe() for guard in listed], ["eventName in ['AssumeRole']"])
        inside = guards_of(
            'CRUD = ["CreateRepository", "DeleteRepository"]\n'
            'def rule(event):\n'
            '    if event.get("eventSource") == "ecr.amazonaws.com" and event.get("eventName") in CRUD:\n'
            '        return True\n'
            '    return False\n'
        )
        self.assertEqual(len(inside), 2)
        either = guards_of(
            'def rule(event):\n'
            '    return event.get("eventName", "") == "A" or event.get("eventName", "") == "B"\n'
        )
        self.assertEqual([guard.describe() for guard in either], ["eventName in ['A', 'B']"])

    def test_takes_nothing_from_a_list_with_a_call_that_may_write_or_after_the_event_is_rebound(self):
        self.assertEqual(
            guards_of('seen = []\ndef rule(event):\n    return all([seen.append(1), event.get("a") == "x"])\n'), []
        )
        self.assertEqual(
            guards_of('def rule(event):\n    event = event.get("detail")\n    return event.get("a") == "x"\n'), []
        )


if __name__ == "__main__":
    unittest.main()
