"""Who may create an account here: `settings.WINDSOR_SIGNUP` is open, invite or closed.

`signup_permitted` is the one place that decides. Invitations do not exist yet, so under
`invite` it refuses like `closed`; the invitation flow will accept a valid invitation here.
"""

from django.conf import settings
from django.http import HttpRequest


def signup_open() -> bool:
    """Anyone may sign up: the login page offers a signup link only then."""
    return settings.WINDSOR_SIGNUP == "open"


def signup_permitted(request: HttpRequest) -> bool:
    # `invite`: this is where a valid invitation in the request will be accepted.
    return signup_open()
