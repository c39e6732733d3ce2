"""Models in stage order: project → document → annotation → export."""

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
from .export import Export, ExportStatus
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
    "Export",
    "ExportStatus",
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
