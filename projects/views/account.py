"""The caller's own account: API tokens for scripts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from projects.models import ApiToken
from projects.services.errors import ServiceError
from projects.services.tokens import token_create, token_revoke


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List and create tokens. A new key is shown in the answer to the POST itself, once; it
    is never stored in clear, put in a message or a session."""
    new_key = None
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()[:100] or "script"
        try:
            days = int(request.POST.get("days") or 90)
        except ValueError:
            days = -1
        if not 0 <= days <= 3650:
            messages.error(request, "Lifetime must be a number of days from 0 (no expiry) to 3650.")
        else:
            _token, new_key = token_create(user_id=request.user.pk, name=name, days=days)
    rows = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True)
    return render(request, "projects/tokens.html", {"tokens": rows, "new_key": new_key})


@login_required
@require_http_methods(["POST"])
def token_delete(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token_revoke(user_id=request.user.pk, token_id=token_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Token revoked; scripts using it will be refused from now on.")
    return redirect("projects:tokens")
