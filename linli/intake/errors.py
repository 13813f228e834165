"""The one exception a refused file raises."""

from __future__ import annotations

from django.utils.functional import Promise


class IntakeError(Exception):
    """A file that cannot be read, with a stable code and a message for the worker.

    `code` is for programs and tests ("zip_bomb", "encoding_unknown", ...); `message` is a
    translatable text (gettext_lazy, already formatted), shown to the worker in their language.
    """

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
