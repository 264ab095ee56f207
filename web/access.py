"""Who may open a page: a logged-in user of the right kind, else 403 (anonymous visitors go to log in)."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required


def kind_required(allowed: Callable[[Any], bool]) -> Callable[[Any], Any]:
    def decorator(view: Any) -> Any:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


citizen_required = kind_required(lambda user: user.is_citizen)
official_required = kind_required(lambda user: user.is_official)
