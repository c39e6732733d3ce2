"""API tokens for scripts. Only a SHA-256 of each key is stored; the key exists in clear once,
in the answer to its creation."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from projects.models import ApiToken

from .audit import audit_record
from .errors import NotFound

KEY_PREFIX = "sat_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user_id: int, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token and return it with its key (the only time the key exists in clear)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    token = ApiToken.objects.create(
        user_id=user_id,
        name=name[:100] or "token",
        key_hash=hash_key(key),
        prefix=key[len(KEY_PREFIX) : len(KEY_PREFIX) + 8],
        expires_at=timezone.now() + timedelta(days=days) if days > 0 else None,
    )
    audit_record(
        actor_id=user_id,
        action="token.create",
        object_type="token",
        object_id=token.pk,
        data={"name": token.name},
    )
    return token, key


def token_revoke(*, user_id: int, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise NotFound("No such token.")
    audit_record(actor_id=user_id, action="token.revoke", object_type="token", object_id=token_id)
