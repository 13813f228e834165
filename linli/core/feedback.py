"""How a page tells the user that a service refused: on the form's fields, or as a message.

Services raise ValidationError (bad input, wrong state) and PermissionDenied (outside the
user's scope); every view answers them the same way, so the wording and the kept input are the
same on every page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields it names (the others on top).

    The form keeps what was typed; styled forms mark the fields in error.
    """
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)
    mark_invalid: Any = getattr(form, "mark_invalid", None)
    if callable(mark_invalid):
        mark_invalid()


def flash_error(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    """A refused action without a form (a button): the reason as an error message."""
    if isinstance(exc, PermissionDenied):
        messages.error(request, str(exc) or _("You may not do this."))
    else:
        messages.error(request, " ".join(exc.messages))
