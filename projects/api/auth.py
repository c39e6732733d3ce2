"""API tokens: ``Authorization: Token <key>``. Keys are stored as SHA-256 hashes and shown
once; they expire and can be revoked. Never accepted in a URL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from projects.models import ApiToken
from projects.models.prepared import Prepared, columns, instance
from projects.services.tokens import hash_key

LAST_USED_RESOLUTION = timedelta(minutes=5)


# Every API request of a script starts here: its SQL is built once per process.
_TOKEN_WITH_USER = Prepared(
    lambda key_hash: (
        ApiToken.objects.filter(key_hash=key_hash)
        .order_by()
        .values_list(*columns(ApiToken), *columns(get_user_model(), "user__"))[:1]
    ),
    key_hash="",
)


def _token_with_user(key_hash: str) -> ApiToken | None:
    rows = _TOKEN_WITH_USER(key_hash=key_hash)
    if not rows:
        return None
    n = len(ApiToken._meta.concrete_fields)
    token = instance(ApiToken, rows[0][:n])
    token.user = instance(get_user_model(), rows[0][n:])
    return token


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"token", b"bearer"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: use 'Authorization: Token <key>'."
            )
        try:
            key = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = _token_with_user(hash_key(key))
        now = timezone.now()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("This token has expired; create a new one.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This user is inactive.")
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Documents token auth in the OpenAPI schema."""

    target_class = "projects.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create keys at POST /api/v1/auth/tokens/.",
        }
