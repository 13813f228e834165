"""Routes of the notify capability: workbench pages under /w/n/, the resident inbox /p/n/
(one include in linli/urls.py)."""

from django.urls import path

from linli.notify import views as v

app_name = "notify"

urlpatterns = [
    path("w/n/", v.notification_list, name="notification_list"),
    path("w/n/mass/new/", v.mass_message_new, name="mass_new"),
    path("w/n/mass/<int:pk>/", v.mass_detail, name="mass_detail"),
    path("w/n/mass/<int:pk>/progress/", v.mass_progress, name="mass_progress"),
    path("w/n/inbox/", v.inbox, name="inbox"),
    path("w/n/inbox/<int:pk>/read/", v.inbox_read, name="inbox_read"),
    path("w/n/inbox/read-all/", v.inbox_read_all, name="inbox_read_all"),
    path("p/n/", v.portal_inbox, name="portal_inbox"),
]
