"""The API tokens page: create (key shown once), list, revoke; only your own."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from projects.models import ApiToken


def test_a_user_creates_a_token_sees_it_once_and_it_works(client: Any, world: Any) -> None:
    client.force_login(world.annotator)
    response = client.post("/account/tokens/", {"name": "laptop", "days": "30"})
    assert response.status_code == 200
    key = response.context["new_key"]
    assert key.startswith("sat_") and key.encode() in response.content
    again = client.get("/account/tokens/")
    assert key.encode() not in again.content and b"laptop" in again.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").json()["username"] == "ann1"


def test_a_user_revokes_their_token_but_not_someone_elses(client: Any, world: Any) -> None:
    client.force_login(world.annotator)
    client.post("/account/tokens/", {"name": "mine"})
    token = ApiToken.objects.get(user=world.annotator)
    client.force_login(world.outsider)
    client.post(f"/account/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is None
    client.force_login(world.annotator)
    client.post(f"/account/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_tokens_page_needs_a_login(client: Any, db: Any) -> None:
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
