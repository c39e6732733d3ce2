from django.urls import path

from . import annotations, documents, exports, lifecycle, projects, review

app_name = "api"

P = "projects/<str:project_id>/"
D = P + "documents/<id:document_id>/"
A = D + "annotation/"

urlpatterns = [
    path("auth/tokens/", projects.TokenListView.as_view(), name="tokens"),
    path("auth/tokens/<id:token_id>/", projects.TokenDetailView.as_view(), name="token"),
    path("me/", projects.MeView.as_view(), name="me"),
    path("projects/", projects.ProjectListView.as_view(), name="projects"),
    path(P, projects.ProjectDetailView.as_view(), name="project"),
    path(P + "members/", projects.MemberListView.as_view(), name="members"),
    path(P + "members/<id:member_id>/", projects.MemberDetailView.as_view(), name="member"),
    path(P + "scheme/", projects.SchemeView.as_view(), name="scheme"),
    # documents
    path(P + "documents/", documents.DocumentListView.as_view(), name="documents"),
    path(P + "documents/import/", documents.DocumentImportView.as_view(), name="import"),
    path(D, documents.DocumentDetailView.as_view(), name="document"),
    # deleting and restoring (DELETE on a document, an annotation or a project soft-deletes)
    path(
        P + "documents/deleted/",
        lifecycle.DeletedDocumentListView.as_view(),
        name="documents-deleted",
    ),
    path(D + "restore/", lifecycle.DocumentRestoreView.as_view(), name="document-restore"),
    path(D + "history/", lifecycle.DocumentHistoryView.as_view(), name="document-history"),
    path(
        P + "annotations/deleted/",
        lifecycle.DeletedAnnotationListView.as_view(),
        name="annotations-deleted",
    ),
    path(
        D + "annotations/<id:annotation_id>/restore/",
        lifecycle.AnnotationRestoreView.as_view(),
        name="annotation-restore",
    ),
    path(P + "assignments/", documents.AssignmentListView.as_view(), name="assignments"),
    path(P + "assignments/auto/", documents.AutoAssignView.as_view(), name="assign-auto"),
    path(
        P + "assignments/<id:assignment_id>/",
        documents.AssignmentDetailView.as_view(),
        name="assignment",
    ),
    path(P + "queue/", documents.QueueView.as_view(), name="queue"),
    path(P + "progress/", documents.ProgressView.as_view(), name="progress"),
    # annotations
    path(D + "annotations/", annotations.AnnotationListView.as_view(), name="annotations"),
    path(
        D + "annotations/<id:annotation_id>/",
        annotations.AnnotationDetailView.as_view(),
        name="annotation-detail",
    ),
    path(A, annotations.MyAnnotationView.as_view(), name="my-annotation"),
    path(A + "spans/", annotations.SpanListView.as_view(), name="spans"),
    path(A + "spans/<str:span_id>/", annotations.SpanDetailView.as_view(), name="span"),
    path(A + "relations/", annotations.RelationListView.as_view(), name="relations"),
    path(
        A + "relations/<str:relation_id>/",
        annotations.RelationDetailView.as_view(),
        name="relation",
    ),
    path(A + "stances/<id:target_id>/", annotations.StanceView.as_view(), name="stance"),
    path(A + "submit/", annotations.SubmitView.as_view(), name="submit"),
    path(A + "skip/", annotations.SkipView.as_view(), name="skip"),
    # review
    path(P + "agreement/", review.AgreementView.as_view(), name="agreement"),
    path(P + "adjudication/", review.AdjudicationQueueView.as_view(), name="adjudication"),
    path(D + "gold/", review.GoldView.as_view(), name="gold"),
    path(D + "gold/merge/", review.GoldMergeView.as_view(), name="gold-merge"),
    path(D + "gold/decide/", review.GoldDecideView.as_view(), name="gold-decide"),
    path(D + "gold/submit/", review.GoldSubmitView.as_view(), name="gold-submit"),
    path(D + "gold/undo/", review.GoldUndoView.as_view(), name="gold-undo"),
    # exports
    path(P + "exports/", exports.ExportListView.as_view(), name="exports"),
    path(P + "exports/<id:export_id>/", exports.ExportDetailView.as_view(), name="export"),
    path(
        P + "exports/<id:export_id>/download/",
        exports.ExportDownloadView.as_view(),
        name="export-download",
    ),
    path(
        P + "exports/<id:export_id>/manifest/",
        exports.ExportManifestView.as_view(),
        name="export-manifest",
    ),
]
