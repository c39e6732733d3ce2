"""Server-rendered pages, by stage: project (list, create, overview, members, scheme), then
documents (import, read-only view), then review (agreement)."""

from django.urls import path

from . import (
    account,
    adjudication,
    compare,
    documents,
    exports,
    history,
    lifecycle,
    project,
    review,
    workspace,
)

app_name = "projects"

urlpatterns = [
    path("", project.project_list, name="list"),
    path("projects/new/", project.project_create, name="create"),
    path("account/tokens/", account.tokens, name="tokens"),
    path("account/tokens/<id:token_id>/revoke/", account.token_delete, name="token_delete"),
    path("p/<slug:slug>/", project.project_overview, name="overview"),
    path("p/<slug:slug>/settings/", project.project_settings, name="settings"),
    path("p/<slug:slug>/members/", project.member_set, name="member_set"),
    path("p/<slug:slug>/members/<id:membership_id>/role/", project.member_role, name="member_role"),
    path(
        "p/<slug:slug>/members/<id:membership_id>/remove/",
        project.member_remove,
        name="member_remove",
    ),
    path("p/<slug:slug>/assign/", project.assignments_auto, name="assign_auto"),
    path("p/<slug:slug>/scheme/", project.scheme, name="scheme"),
    path("p/<slug:slug>/import/", documents.document_import, name="import"),
    path("p/<slug:slug>/d/<id:document_id>/", documents.document_detail, name="document"),
    path("p/<slug:slug>/work/", workspace.my_work, name="my_work"),
    path("p/<slug:slug>/d/<id:document_id>/annotate/", workspace.workspace, name="workspace"),
    path(
        "p/<slug:slug>/d/<id:document_id>/assign/",
        documents.assignment_add,
        name="assignment_add",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/assign/<id:assignment_id>/remove/",
        documents.assignment_remove,
        name="assignment_remove",
    ),
    path("p/<slug:slug>/agreement/", review.agreement, name="agreement"),
    path("p/<slug:slug>/d/<id:document_id>/compare/", compare.compare, name="compare"),
    path("p/<slug:slug>/adjudication/", adjudication.adjudication, name="adjudication"),
    path(
        "p/<slug:slug>/d/<id:document_id>/adjudicate/",
        adjudication.adjudicate,
        name="adjudicate",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/adjudicate/merge/",
        adjudication.adjudicate_merge,
        name="adjudicate_merge",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/adjudicate/decide/",
        adjudication.adjudicate_decide,
        name="adjudicate_decide",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/adjudicate/undo/",
        adjudication.adjudicate_undo,
        name="adjudicate_undo",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/adjudicate/submit/",
        adjudication.adjudicate_submit,
        name="adjudicate_submit",
    ),
    path("p/<slug:slug>/exports/", exports.exports, name="exports"),
    # deleting and restoring (soft: nothing is removed), and a document's audit history
    path("p/<slug:slug>/delete/", lifecycle.project_delete, name="project_delete"),
    path("p/<slug:slug>/deleted/", lifecycle.deleted, name="deleted"),
    path(
        "p/<slug:slug>/d/<id:document_id>/delete/",
        lifecycle.document_delete,
        name="document_delete",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/restore/",
        lifecycle.document_restore,
        name="document_restore",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/annotations/<id:annotation_id>/delete/",
        lifecycle.annotation_delete,
        name="annotation_delete",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/annotations/<id:annotation_id>/restore/",
        lifecycle.annotation_restore,
        name="annotation_restore",
    ),
    path(
        "p/<slug:slug>/d/<id:document_id>/history/",
        history.document_history,
        name="document_history",
    ),
    path(
        "p/<slug:slug>/exports/<id:export_id>/delete/",
        exports.export_delete,
        name="export_delete",
    ),
]
