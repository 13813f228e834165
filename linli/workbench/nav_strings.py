"""Strings of linli/templates/base.html and its includes, which lie outside any app.

makemessages run inside an app only sees that app's files; listing the shared layout's
strings here puts them in the workbench catalogue, so the navigation is Chinese everywhere.
"""

from django.utils.translation import gettext_noop

LAYOUT_STRINGS = [
    gettext_noop("Linli"),
    gettext_noop("Linli community register"),
    gettext_noop("Menu"),
    gettext_noop("Jurisdiction"),
    gettext_noop("Persons"),
    gettext_noop("Corrections"),
    gettext_noop("Command view"),
    gettext_noop("Audit log"),
    gettext_noop("Users"),
    gettext_noop("Tags"),
    gettext_noop("Sign out"),
    gettext_noop("Close"),
    gettext_noop("Language"),
]
