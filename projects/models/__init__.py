"""Models in stage order: project → document → annotation."""

from .annotation import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    AuditEvent,
    Relation,
    Span,
    Stance,
)
from .document import Assignment, AssignmentStatus, Document
from .project import (
    ApiToken,
    Label,
    Membership,
    Project,
    RelationType,
    Role,
    SchemeVersion,
    StanceTarget,
)

__all__ = [
    "Annotation",
    "AnnotationKind",
    "AnnotationStatus",
    "ApiToken",
    "Assignment",
    "AssignmentStatus",
    "AuditEvent",
    "Document",
    "Label",
    "Membership",
    "Project",
    "Relation",
    "RelationType",
    "Role",
    "SchemeVersion",
    "Span",
    "Stance",
    "StanceTarget",
]
