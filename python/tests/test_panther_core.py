"""The event object rules receive, as Panther's rules rely on it. Run with `python3 -m unittest discover
python/tests` (test/python-units.spec.ts does, in npm test)."""

import unittest

from panther_core import PantherEvent
from panther_core.data_model import DataModel, PathSyntaxError, compile_path
from panther_core.immutable import ImmutableCaseInsensitiveDict, ImmutableList

EVENT = {
    "eventName": "AssumeRole",
    "userIdentity": {"Type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/admin/x"},
    "resources": [{"ARN": "a", "type": "role"}, {"ARN": "b"}, {"ARN": "a"}, {"other": 1}],
    "empty": [[], []],
    "p_event_time": "2024-05-01 12:00:00.123456789",
    "p_udm": {"source_ip": "192.0.2.1"},
}


def event(model=None):
    return PantherEvent(EVENT, model)


class EventTest(unittest.TestCase):
    def test_finds_keys_ignoring_case_only_when_none_matches_exactly(self):
        both = PantherEvent({"name": "lower", "NAME": "upper"})
        self.assertEqual(both["NAME"], "upper")
        self.assertEqual(both["Name"], "lower")  # the first key written wins
        self.assertEqual(event().get("EVENTNAME"), "AssumeRole")
        self.assertIn("useridentity", event())
        self.assertIsNone(event().get("missing"))

    def test_is_read_only_and_copies_are_deep_and_mutable(self):
        view = event()
        with self.assertRaises(TypeError):
            view["eventName"] = "x"  # type: ignore[index]
        nested = view.get("userIdentity")
        self.assertIsInstance(nested, ImmutableCaseInsensitiveDict)
        self.assertIs(view.get("userIdentity"), nested)  # wrapped once
        copy = nested.copy()
        copy["Type"] = "Root"
        self.assertEqual(EVENT["userIdentity"]["Type"], "AssumedRole")
        self.assertEqual(view.get("resources").copy()[0], {"ARN": "a", "type": "role"})
        self.assertEqual(view.to_dict()["eventName"], "AssumeRole")

    def test_views_equal_plain_values(self):
        self.assertEqual(event().get("userIdentity"), EVENT["userIdentity"])
        self.assertIsInstance(event().get("resources"), ImmutableList)
        self.assertEqual(event().get("resources"), EVENT["resources"])
        self.assertIn({"ARN": "b"}, event().get("resources"))

    def test_deep_get(self):
        self.assertEqual(event().deep_get("useridentity", "type"), "AssumedRole")
        self.assertEqual(event().deep_get("userIdentity", "missing", default="none"), "none")
        self.assertEqual(event().deep_get("resources", "ARN", default="list"), "list")

    def test_deep_walk_walks_lists_keeps_each_value_once_and_is_case_sensitive(self):
        self.assertEqual(event().deep_walk("resources", "ARN"), ["a", "b"])
        self.assertEqual(event().deep_walk("resources", "ARN", return_val="first"), "a")
        self.assertEqual(event().deep_walk("resources", "ARN", return_val="last"), "b")
        self.assertEqual(event().deep_walk("resources", "type"), "role")
        self.assertEqual(event().deep_walk("resources", "arn", default="none"), "none")
        self.assertEqual(event().deep_walk("empty", default="none"), "none")

    def test_udm_reads_the_model_then_p_udm_then_the_event(self):
        model = DataModel(
            "Test",
            {"actor": "$.userIdentity.arn", "role_arns": "$.resources[*].ARN", "absent": "$.nothing"},
            {"event_name": lambda e: e.get("eventName").lower()},
        )
        view = event(model)
        self.assertEqual(view.udm("actor"), EVENT["userIdentity"]["arn"])
        self.assertEqual(view.udm("event_name"), "assumerole")
        self.assertEqual(view.udm("absent", default="d"), "d")
        self.assertEqual(view.udm("source_ip"), "192.0.2.1")
        self.assertEqual(view.udm("eventName"), "AssumeRole")
        with self.assertRaisesRegex(Exception, "matched multiple fields"):
            view.udm("role_arns")
        self.assertEqual(view.udm_path("actor"), "userIdentity.arn")
        self.assertEqual(view.udm_path("event_name"), "<lambda>")

    def test_event_time_epoch(self):
        self.assertEqual(event().event_time_epoch(), 1714564800)
        self.assertEqual(PantherEvent({}).event_time_epoch(), 0)

    def test_jsonpath_subset(self):
        self.assertEqual(compile_path("srcAddr"), (("key", "srcAddr"),))
        self.assertEqual(
            compile_path("$.a['b c'][0][*]..d"),
            (("key", "a"), ("key", "b c"), ("index", 0), ("all", None), ("descend", "d")),
        )
        with self.assertRaises(PathSyntaxError):
            compile_path("$.a[")


class PolicyTest(unittest.TestCase):
    def test_internet_accessible_policies(self):
        from policyuniverse.policy import Policy  # pylint: disable=import-outside-toplevel

        def policy(**statement):
            return Policy({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", **statement}]})

        self.assertTrue(policy(Principal="*").is_internet_accessible())
        self.assertTrue(policy(Principal={"AWS": ["arn:aws:iam::*:root"]}).is_internet_accessible())
        self.assertFalse(policy(Principal={"AWS": "111122223333"}).is_internet_accessible())
        self.assertFalse(policy(Principal={"Service": "lambda.amazonaws.com"}).is_internet_accessible())
        self.assertFalse(
            policy(Principal="*", Condition={"StringEquals": {"aws:SourceAccount": "111122223333"}}).is_internet_accessible()
        )
        self.assertTrue(
            policy(Principal="*", Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}).is_internet_accessible()
        )
        # A negated operator does not limit anyone.
        self.assertTrue(
            policy(Principal="*", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}).is_internet_accessible()
        )
        organisation = policy(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-123"}})
        self.assertFalse(organisation.is_internet_accessible())
        self.assertEqual(organisation.statements[0].condition_entries[0].category, "organization")
        self.assertFalse(Policy({"Statement": {"Effect": "Deny", "Principal": "*"}}).is_internet_accessible())
        # A rule passes the read-only view of its event.
        view = PantherEvent({"p": {"Statement": [{"Effect": "Allow", "Principal": "*"}]}}).get("p")
        self.assertTrue(Policy(view).is_internet_accessible())


if __name__ == "__main__":
    unittest.main()
