"""Texts in the deployment's language, whatever the request's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation


def deployment_text(value: Any) -> str:
    """*value* (a lazy translation, a message) rendered in ``LANGUAGE_CODE``: what background
    runs store for whoever reads them later (the worker's page, an audit note)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(value)
