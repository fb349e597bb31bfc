"""Tripline's own implementation of the `panther_core` names that rules and global helpers import."""

from .enriched_event import PantherEvent
from .immutable import ImmutableCaseInsensitiveDict, ImmutableList

__all__ = ["PantherEvent", "ImmutableCaseInsensitiveDict", "ImmutableList"]
