"""Whether to show the triage queue in the navigation."""
from .permissions import can_triage


def triage(request):
    user = getattr(request, "user", None)
    return {"can_triage_uploads": user is not None and can_triage(user)}
