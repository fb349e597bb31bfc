"""How errors of rules and helpers are worded: the exception, the file and line, and for a module that
is missing, what to install."""

import unittest

from tripline_runtime.detections import describe_exception
from tripline_runtime.sources import module_from_source


def _raised(source, file_name):
    try:
        module_from_source("tripline_test_errors", source, file_name)
    except BaseException as error:  # pylint: disable=broad-except
        return describe_exception(error, file_name)
    raise AssertionError("the source ran without an error")


class ErrorWordingTest(unittest.TestCase):
    def test_names_the_exception_the_file_and_the_line(self):
        self.assertEqual(_raised("x = 1\ny = missing_name\n", "rule.py"), "NameError: name 'missing_name' is not defined (rule.py, line 2)")

    def test_says_what_to_install_for_a_missing_debian_module(self):
        said = _raised("import yaml_not_here_either\n", "helper.py")
        self.assertIn("ModuleNotFoundError: No module named 'yaml_not_here_either' (helper.py, line 1)", said)
        self.assertIn("standard library", said)
        error = ModuleNotFoundError("No module named 'dateutil'", name="dateutil")
        self.assertTrue(describe_exception(error, "helper.py").endswith("apt-get install python3-dateutil"))


if __name__ == "__main__":
    unittest.main()
