from __future__ import annotations

from typing import Any

from annotator.logs import request_id
from projects.models import AuditEvent, Document, Project
from projects.models.prepared import insert


def audit_record(
    *,
    actor_id: int | None,
    action: str,
    project: Project | None = None,
    project_id: int | None = None,
    document: Document | None = None,
    document_id: int | None = None,
    object_type: str = "",
    object_id: object = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Called inside the caller's transaction so the trail and the change
    commit (or roll back) together. The request id (of the web request, or of the request that
    queued the task) links the event to the log lines of the same request."""
    data = dict(data or {})
    rid = request_id()
    if rid != "-":
        data.setdefault("request_id", rid)
    event = AuditEvent(
        project_id=project.pk if project is not None else project_id,
        document_id=document.pk if document is not None else document_id,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=data,
    )
    insert(event)  # one per saved change: its INSERT's SQL is built once per process
    return event
