"""Tripline's implementation of the `panther_detection_helpers` modules rules import."""
