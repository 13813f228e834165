"""Sign-in and sign-out for staff, each written to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from linli.accounts.services import login_failed_record, login_locked
from linli.audit.models import AuditAction
from linli.audit.services import audit_record
from linli.workbench.views.common import is_resident_only, portal_url


class WorkbenchLoginView(LoginView):
    """Django's sign-in, audited; a resident's account is sent on to the portal."""

    template_name = "workbench/login.html"
    redirect_authenticated_user = True

    def get_form(self, form_class: Any = None) -> AuthenticationForm:
        form: AuthenticationForm = super().get_form(form_class)
        form.fields["username"].widget.attrs.update(
            {"class": "form-control form-control-lg", "autofocus": True}
        )
        form.fields["password"].widget.attrs.update({"class": "form-control form-control-lg"})
        return form

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        response = super().form_valid(form)
        audit_record(actor=user, action=AuditAction.LOGIN, obj=user)
        if is_resident_only(user):
            return HttpResponseRedirect(portal_url())
        return response

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        if login_locked(username=username, ip=request.META.get("REMOTE_ADDR")):
            # Refused before the password is checked: a right guess now gains nothing.
            form = self.get_form()
            form.add_error(None, _("Too many failed sign-ins. Please wait 15 minutes."))
            return self.render_to_response(self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        # No actor: nobody is signed in. The name typed is kept to spot guessing.
        if form.data.get("username"):
            login_failed_record(username=str(form.data.get("username", "")))
        return super().form_invalid(form)


class WorkbenchLogoutView(LogoutView):
    """Django's sign-out (POST only), audited before the session ends."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if user.is_authenticated:
            audit_record(actor=user, action=AuditAction.LOGOUT, obj=user)
        return super().post(request, *args, **kwargs)
