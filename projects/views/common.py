"""Helpers shared by the pages: Markdown rendering and turning service errors into messages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from projects.services.errors import ServiceError

# CommonMark with raw HTML off: "<script>" in guidelines is shown as text, never run. Link
# targets go through markdown-it's validateLink, which drops javascript:, vbscript:, file: and
# (non-image) data: URLs; tests/pages/test_markdown.py pins both behaviours.
_markdown = MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str) -> SafeString:
    """Guidelines (user-written Markdown) as HTML that is safe to put into a page."""
    return mark_safe(_markdown.render(text or ""))  # noqa: S308 - raw HTML is disabled above


def error_message(request: HttpRequest, error: ServiceError) -> None:
    """Show a service's refusal as a message; its problems are already summarised in the
    message for the short cases that end up here (forms render long lists themselves)."""
    messages.error(request, error.message)
