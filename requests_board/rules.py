"""The life cycle of a data request: the one table of which step each state allows.

Services move requests with `check_transition`; permissions and `request_actions`
(permissions.py) read the same table through `transition_refusal`, so what a page
offers and what a service accepts cannot drift apart. It lives apart from the
services so that permissions can read it without importing them.
"""
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _lazy

from .models import DataRequest

State = DataRequest.State


class InvalidTransition(ValidationError):
    """A life-cycle step the request's current state does not allow."""

    api_status, api_code = 409, "invalid_state"  # the API answers 409 Conflict (forum/api/errors.py)


@dataclass(frozen=True)
class Transition:
    """The states a step may start from, each with the state it leads to (itself for a step that
    changes no state, e.g. editing), and the words refusing it in any other state."""

    moves: dict
    refusal: Promise  # may name the state as %(state)s


def _stays(*states) -> dict:
    return {state: state for state in states}


# A published request still being worked on.
LIVE_STATES = (State.OPEN, State.CLAIMED, State.IN_PROGRESS, State.DELIVERED)

TRANSITIONS = {
    # The draft form saves and publishes drafts (services.request_submit).
    "save_draft": Transition(_stays(State.DRAFT),
                             _lazy("Only drafts are saved this way; this request is already published.")),
    "publish": Transition({State.DRAFT: State.OPEN}, _lazy("This request is already published.")),
    # A published request's details (services.request_edit); after it is solved or withdrawn only
    # moderators edit it (permissions.edit_refusal).
    "edit": Transition(_stays(*LIVE_STATES, State.ACCEPTED, State.WITHDRAWN),
                       _lazy("This request is %(state)s: its details can no longer be changed.")),
    # The first claim makes an open request claimed; later ones join it as collaborators or parts.
    "claim": Transition({State.OPEN: State.CLAIMED, State.CLAIMED: State.CLAIMED,
                         State.IN_PROGRESS: State.IN_PROGRESS},
                        _lazy("This request is %(state)s: it can no longer be claimed.")),
    # The first progress update starts the work; updates go on after a result, until one is accepted.
    "update": Transition({State.CLAIMED: State.IN_PROGRESS, State.IN_PROGRESS: State.IN_PROGRESS,
                          State.DELIVERED: State.DELIVERED},
                         _lazy("This request is %(state)s: progress updates are closed.")),
    "deliver": Transition({State.CLAIMED: State.DELIVERED, State.IN_PROGRESS: State.DELIVERED,
                           State.DELIVERED: State.DELIVERED},
                          _lazy("This request is %(state)s: results can no longer be delivered.")),
    "accept": Transition({State.DELIVERED: State.ACCEPTED},
                         _lazy("This request is %(state)s: there is no result to accept.")),
    # Nobody asks for this step: it follows the last claim ending, or the data going private.
    "reopen": Transition({State.CLAIMED: State.OPEN, State.IN_PROGRESS: State.OPEN},
                         _lazy("This request is %(state)s.")),
    "withdraw": Transition(
        {State.OPEN: State.WITHDRAWN, State.CLAIMED: State.WITHDRAWN},
        _lazy("This request is %(state)s: only open or claimed requests can be withdrawn. "
              "A moderator can close it if it is no longer needed."),
    ),
    "close": Transition({state: State.CLOSED for state in State if state not in (State.DRAFT, State.CLOSED)},
                        _lazy("This request is already closed.")),
    # Whether the request waits for the anonymization team at all is the request's, not its state's.
    "clear": Transition(_stays(*(state for state in State if state != State.DRAFT)),
                        _lazy("This request is a draft: nothing of it is published yet.")),
    "attach": Transition(_stays(*LIVE_STATES, State.ACCEPTED),
                         _lazy("This request is %(state)s: no more data files can be attached.")),
    "export": Transition(_stays(State.ACCEPTED), _lazy("Only solved requests can be exported.")),
}


# How a refusal names a state: "This request is %(state)s: ...".
STATE_WORDS = {
    State.DRAFT: _lazy("a draft"),
    State.OPEN: _lazy("open"),
    State.CLAIMED: _lazy("claimed"),
    State.IN_PROGRESS: _lazy("in progress"),
    State.DELIVERED: _lazy("awaiting acceptance of the result delivered"),
    State.ACCEPTED: _lazy("solved"),
    State.WITHDRAWN: _lazy("withdrawn"),
    State.CLOSED: _lazy("closed"),
}


def state_words(data_request: DataRequest) -> str:
    """The request's state as refusals say it ("solved", "a draft")."""
    return str(STATE_WORDS[data_request.state])


def transition_refusal(data_request: DataRequest, action: str) -> str | None:
    """The words refusing `action` in the request's current state, or None when the table allows it."""
    step = TRANSITIONS[action]
    if data_request.state in step.moves:
        return None
    return str(step.refusal) % {"state": state_words(data_request)}


def check_transition(data_request: DataRequest, action: str) -> str:
    """The state `action` leads to from the request's state; raises InvalidTransition if not allowed."""
    refusal = transition_refusal(data_request, action)
    if refusal is not None:
        raise InvalidTransition(refusal)
    return TRANSITIONS[action].moves[data_request.state]
