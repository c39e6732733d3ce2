"""Input validation and the documented output shapes (for the OpenAPI schema).

Output is built as plain dicts by ``projects.selectors`` (fast, one shape everywhere); these
serializers describe that shape for drf-spectacular and the schema tests.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from projects.domain.importers import IMPORT_FORMATS
from projects.models import AssignmentStatus, Role

# --- auth ---------------------------------------------------------------------------------


class TokenCreateIn(serializers.Serializer):
    username = serializers.CharField(required=False)
    password = serializers.CharField(required=False, style={"input_type": "password"})
    name = serializers.CharField(required=False, max_length=100, default="script")
    days = serializers.IntegerField(
        required=False, min_value=0, max_value=3650, help_text="Lifetime in days; 0 = no expiry."
    )


class TokenOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class TokenCreatedOut(TokenOut):
    token = serializers.CharField(help_text="Shown once; store it now.")


# --- projects -----------------------------------------------------------------------------


class ProjectIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    guidelines = serializers.CharField(required=False, allow_blank=True)
    annotators_per_document = serializers.IntegerField(required=False, min_value=1, max_value=50)
    blind = serializers.BooleanField(required=False)
    snap_to_words = serializers.BooleanField(required=False)
    allow_overlap = serializers.BooleanField(required=False)
    adjudication_threshold = serializers.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        help_text="Documents whose agreement (share of spans all annotators agree on) is "
        "below this go to the adjudication queue.",
    )
    scheme = serializers.JSONField(required=False, help_text="A scheme definition (see scheme).")


class ProjectPatchIn(ProjectIn):
    name = serializers.CharField(max_length=200, required=False)

    def validate(self, attrs: dict) -> dict:
        if "slug" in attrs or "scheme" in attrs:
            raise serializers.ValidationError(
                "slug cannot be changed; the scheme is changed with PUT …/scheme/."
            )
        return attrs


class SchemeOut(serializers.Serializer):
    version = serializers.IntegerField()
    name = serializers.CharField()
    span_labels = serializers.ListField(child=serializers.DictField())
    relation_types = serializers.ListField(child=serializers.DictField())
    span_attributes = serializers.ListField(child=serializers.DictField())
    stance_targets = serializers.ListField(child=serializers.DictField())
    stance_values = serializers.ListField(child=serializers.CharField())


class ProjectOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    guidelines = serializers.CharField()
    annotators_per_document = serializers.IntegerField()
    blind = serializers.BooleanField()
    snap_to_words = serializers.BooleanField()
    allow_overlap = serializers.BooleanField()
    adjudication_threshold = serializers.FloatField()
    role = serializers.ChoiceField(choices=Role.choices, help_text="The caller's role.")
    created_at = serializers.DateTimeField()
    scheme = SchemeOut(required=False)


class MemberIn(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class MemberPatchIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


# --- documents ----------------------------------------------------------------------------


class ImportIn(serializers.Serializer):
    file = serializers.FileField(
        help_text=".jsonl, .json, .csv, .txt or .zip: native files, a brat standoff zip, or a "
        "doccano or Label Studio export (see FORMATS)."
    )
    on_duplicate = serializers.ChoiceField(choices=["fail", "skip"], default="fail")
    format = serializers.ChoiceField(
        choices=list(IMPORT_FORMATS),
        default="auto",
        help_text="auto recognises the format from the extension and content.",
    )
    annotator = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=150,
        help_text="Username of the member who made annotations the file does not attribute "
        "(brat pairs outside any folder, a lone doccano file).",
    )
    annotator_map = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Rename the file's annotators to usernames: a JSON object or name=username "
        "pairs separated by commas (a Label Studio user id or email, a brat folder).",
    )


class ImportNote(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    file = serializers.CharField(required=False)
    line = serializers.IntegerField(required=False)
    field = serializers.CharField(required=False)


class ImportOut(serializers.Serializer):
    created = serializers.IntegerField()
    skipped = serializers.ListField(child=serializers.CharField())
    annotations = serializers.IntegerField()
    spans = serializers.IntegerField()
    notes = ImportNote(many=True, help_text="What the file held but was left out on purpose.")


class DocumentOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    title = serializers.CharField()
    length = serializers.IntegerField(help_text="Length in code points.")
    sha256 = serializers.CharField()
    meta = serializers.DictField()
    created_at = serializers.DateTimeField()
    assigned = serializers.IntegerField(required=False)
    submitted = serializers.IntegerField(required=False)


class DocumentDetailOut(DocumentOut):
    text = serializers.CharField()


# --- annotations --------------------------------------------------------------------------


class VersionIn(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="The annotation version the client last saw; a stale one gets 409.",
    )


class SpanIn(VersionIn):
    client_id = serializers.CharField(
        required=False, max_length=64, help_text="Client-made id; a retry with it is a no-op."
    )
    start = serializers.IntegerField(help_text="Code point offset, inclusive.")
    end = serializers.IntegerField(help_text="Code point offset, exclusive.")
    label = serializers.CharField()
    attributes = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )


_FAST_INT_LIMIT = 2**53  # what every JSON client sends exactly


def _plain_int(value: object) -> bool:
    return type(value) is int and -_FAST_INT_LIMIT < value < _FAST_INT_LIMIT


# DRF's CharField refuses NUL and lone surrogates (which JSON's \\u escapes can carry)
_REFUSED_CHARS = re.compile("[\x00\ud800-\udfff]")


def _plain_str(value: object, *, blank: bool = False) -> bool:
    return (
        type(value) is str
        and (blank or value != "")
        and value == value.strip()
        and _REFUSED_CHARS.search(value) is None
    )


def span_in_fast(data: object) -> dict[str, Any] | None:
    """``SpanIn(data=data).validated_data`` for the body the annotation page and scripts
    send (JSON integers, untrimmed-free strings), without building the serializer: its
    fields are deep-copied on every instance, which cost more than the database's part of a
    span save. None for anything else, and the caller validates with ``SpanIn`` then, so
    every error (and every coercion DRF makes, as "5" to 5) is exactly the serializer's; a
    property test holds the two equal."""
    if type(data) is not dict:
        return None
    start, end, label = data.get("start"), data.get("end"), data.get("label")
    if not (_plain_int(start) and _plain_int(end) and _plain_str(label)):
        return None
    out: dict[str, Any] = {"start": start, "end": end, "label": label}
    if "version" in data:
        version = data["version"]
        if not (_plain_int(version) and version >= 0):
            return None
        out["version"] = version
    if "client_id" in data:
        client_id = data["client_id"]
        if not (_plain_str(client_id) and len(client_id) <= 64):
            return None
        out["client_id"] = client_id
    if "attributes" in data:
        attributes = data["attributes"]
        if type(attributes) is not dict or not all(
            type(k) is str and _plain_str(v, blank=True) for k, v in attributes.items()
        ):
            return None
        out["attributes"] = dict(attributes)
    return out


class SpanPatchIn(VersionIn):
    start = serializers.IntegerField(required=False)
    end = serializers.IntegerField(required=False)
    label = serializers.CharField(required=False)
    attributes = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )


class RelationIn(VersionIn):
    client_id = serializers.CharField(required=False, max_length=64)
    source = serializers.CharField(help_text="Span id (the span's `id`).")
    target = serializers.CharField(help_text="Span id.")
    type = serializers.CharField()

    def to_internal_value(self, data: object) -> dict:
        # The native format calls the endpoints "from" and "to"; accept both spellings.
        if isinstance(data, dict):
            data = {**data}
            if "from" in data:
                data.setdefault("source", data.pop("from"))
            if "to" in data:
                data.setdefault("target", data.pop("to"))
        return super().to_internal_value(data)


class StanceIn(VersionIn):
    value = serializers.CharField()


class SkipIn(VersionIn):
    reason = serializers.CharField(max_length=2000)


class SpanOut(serializers.Serializer):
    id = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    label = serializers.CharField()
    text = serializers.CharField()
    attributes = serializers.DictField(child=serializers.CharField())


class RelationOut(serializers.Serializer):
    id = serializers.CharField()
    source = serializers.CharField(source="from")
    target = serializers.CharField(source="to")
    type = serializers.CharField()


class StanceOut(serializers.Serializer):
    target_id = serializers.IntegerField()
    target = serializers.CharField()
    value = serializers.CharField()


class AnnotationOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    document = serializers.IntegerField()
    annotator = serializers.CharField(allow_null=True)
    gold = serializers.BooleanField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    skip_reason = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    spans = SpanOut(many=True)
    relations = serializers.ListField(child=serializers.DictField())
    stances = StanceOut(many=True)
    document_detail = DocumentDetailOut(required=False, help_text="With ?include=document.")


class ChangeOut(serializers.Serializer):
    annotation = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    span = SpanOut(required=False)
    relation = serializers.DictField(required=False)
    stance = StanceOut(required=False)


# --- assignments --------------------------------------------------------------------------


class AssignmentIn(serializers.Serializer):
    document = serializers.IntegerField()
    annotator = serializers.CharField(help_text="Username.")


class AutoAssignIn(serializers.Serializer):
    k = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=50,
        help_text="Annotators per document (default: the project's).",
    )


class AssignmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    document = serializers.IntegerField()
    document_title = serializers.CharField()
    external_id = serializers.CharField()
    annotator = serializers.CharField()
    status = serializers.ChoiceField(choices=AssignmentStatus.choices)
    skip_reason = serializers.CharField()
    updated_at = serializers.DateTimeField()
