"""What a failure means: one base for archid's errors, each class declaring its axes.

Every error archid raises on purpose derives from :class:`ArchidError`
(the portal's, the parser's, the store's, the daemon's). Its class says,
once, what the daemon should make of it:

* ``transient``: trying the same sync again later may help (a busy
  database, a full disk an operator will clear, an unreachable portal, a
  cut-off download); a changed layout or wrong credentials will not;
* ``portal_fault``: the portal is to blame (unreachable, slow, answering
  errors), so the portal's circuit breaker counts it. A full disk or a
  crashed browser is transient too, but probing the portal would not help;
* ``hold``: nothing may log in until an operator or the calendar acts
  (:mod:`archid.portal.hold`);
* ``outcome``: what the attempt's run is recorded as (``failed``, or
  ``rejected`` for the store guard's refusal).

The daemon asks through :func:`is_transient`, :func:`is_portal_fault` and
:func:`holds_portal`, which look only at :class:`ArchidError`: anything
else is a bug, not retried, not the portal's fault.
"""

from __future__ import annotations

from typing import ClassVar

from archid.runs import Outcome


class ArchidError(Exception):
    """Base of every error archid raises on purpose; its class declares its axes."""

    #: trying again later may help
    transient: ClassVar[bool] = False
    #: the portal is to blame: the portal's circuit breaker counts it
    portal_fault: ClassVar[bool] = False
    #: every login stops until it is lifted (a portal hold)
    hold: ClassVar[bool] = False
    #: the outcome of the attempt it ends
    outcome: ClassVar[Outcome] = Outcome.FAILED


def is_transient(exc: BaseException) -> bool:
    """Whether trying again later may help (never for a bug)."""
    return isinstance(exc, ArchidError) and exc.transient


def is_portal_fault(exc: BaseException) -> bool:
    """Whether the portal is to blame, as the circuit breaker counts failures."""
    return isinstance(exc, ArchidError) and exc.portal_fault


def outcome_of(exc: BaseException) -> Outcome:
    """The outcome of an attempt that raised ``exc`` (a bug: ``failed``)."""
    return exc.outcome if isinstance(exc, ArchidError) else Outcome.FAILED


def holds_portal(exc: BaseException) -> bool:
    """Whether the failure puts the portal on hold."""
    return isinstance(exc, ArchidError) and exc.hold
