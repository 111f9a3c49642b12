"""The span a detector reports, and the internal policies that only rank differently.

Every detector in this package returns :class:`Found` spans of whole tokens, and the
resolver in ``_detect`` ranks and trims them. Two detected kinds are reported under a public
policy but rank elsewhere in overlap resolution (a street address is a ``location`` that
outranks a person name; a triggered order or tracking code is a ``number_sequence`` that
outranks a phone number), so they get marker policies here, shared by the detectors that emit
them and the resolver that maps them back.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ADDRESS", "ID_CODE", "Found"]

ADDRESS = "_address"
"""A street address: reported as ``location``, but it outranks a name ("baker street")."""
ID_CODE = "_id_code"
"""A code after "tracking number", "order number"...: reported as ``number_sequence``, but
it outranks the phone number its digits may look like."""


@dataclass(frozen=True)
class Found:
    policy: str
    start: int
    end: int
    """Exclusive token index."""
