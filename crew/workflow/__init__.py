"""Every status change of the tracker, and nothing else writes a status.

One function per transition, each atomic: check the permission, compare-and-swap
the status (a lost race raises InvalidTransition → 409), write the audit row,
and enqueue side effects on commit.
"""

from crew.workflow.core import CUT_STATES, OPEN_STATES
from crew.workflow.cuts import add_version, approve, request_changes, submit_version
from crew.workflow.intake import accept, cancel, decline, submit_request
from crew.workflow.publication import approved_version, publish, take_down
from crew.workflow.shoots import (
    CrewMember,
    attach_footage,
    cancel_shoot,
    complete_shoot,
    reschedule,
    schedule,
)

__all__ = [
    "CUT_STATES",
    "OPEN_STATES",
    "CrewMember",
    "accept",
    "add_version",
    "approve",
    "approved_version",
    "attach_footage",
    "cancel",
    "cancel_shoot",
    "complete_shoot",
    "decline",
    "publish",
    "reschedule",
    "request_changes",
    "schedule",
    "submit_request",
    "submit_version",
    "take_down",
]
