"""Tripline's own implementation of the part of policyuniverse (Netflix's IAM policy library) that
Panther's rules use: reading a policy's statements, their principals and limiting conditions, and
deciding whether a policy lets anyone on the internet in. Not the whole library: no action expansion."""
