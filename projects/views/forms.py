"""Forms of the server-rendered pages. They only check the shape of the input; the services
decide what is allowed (and say why not)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from projects.models import Role

SCHEME_CHOICES = [
    ("demo", "Start from the demo scheme (Claim / Justification / Critique, supports / attacks)"),
    ("empty", "Start empty (define the labels on the scheme page)"),
]


def _not_only_digits(slug: str) -> str:
    # Project references that are all digits are read as ids by the access helper.
    if slug and slug.isdigit():
        raise ValidationError(
            "A slug needs at least one letter or dash (all digits reads as an id)."
        )
    return slug


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=80,
        required=False,
        help_text="Used in addresses (/p/slug/). Leave empty to make one from the name.",
    )
    annotators_per_document = forms.IntegerField(
        label="Annotators per document (overlap k)", min_value=1, max_value=50, initial=2
    )
    blind = forms.BooleanField(
        required=False, initial=True, label="Blind: annotators never see each other's work"
    )
    scheme = forms.ChoiceField(choices=SCHEME_CHOICES, initial="demo", widget=forms.RadioSelect)

    def clean_slug(self) -> str:
        return _not_only_digits(self.cleaned_data["slug"])


class ProjectSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    guidelines = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown. Raw HTML is shown as text.",
    )
    annotators_per_document = forms.IntegerField(
        label="Annotators per document (overlap k)", min_value=1, max_value=50
    )
    blind = forms.BooleanField(
        required=False, label="Blind: annotators never see each other's work"
    )
    snap_to_words = forms.BooleanField(required=False, label="Snap selections to word boundaries")
    allow_overlap = forms.BooleanField(required=False, label="Allow overlapping and nested spans")
    adjudication_threshold = forms.FloatField(
        required=False,
        min_value=0.0,
        max_value=1.0,
        label="Adjudication threshold",
        help_text="Documents whose annotators agree on less than this share of spans (0–1) go "
        "to the adjudication queue; 1 sends every document with any difference.",
    )

    def clean_adjudication_threshold(self) -> float:
        """Left empty keeps the current value (older forms did not have the field)."""
        value = self.cleaned_data.get("adjudication_threshold")
        return float(self.initial.get("adjudication_threshold", 1.0)) if value is None else value


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SchemeForm(forms.Form):
    definition = forms.CharField(
        label="Scheme (JSON)",
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false", "class": "code"}),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="A .jsonl, .json, .csv or .txt file, or a .zip (of .txt files, a brat "
        "standoff export or a doccano export).",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonl,.ndjson,.json,.csv,.txt,.zip"}),
    )
    on_duplicate = forms.ChoiceField(
        label="If a document id already exists",
        choices=[
            ("fail", "Refuse the whole import (nothing is imported)"),
            ("skip", "Skip those documents and import the rest"),
        ],
        initial="fail",
        widget=forms.RadioSelect,
    )
    format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=[
            ("auto", "Recognise it from the file"),
            ("native", "Native (.jsonl, .csv, .txt, .zip of .txt)"),
            ("brat", "brat standoff (.zip)"),
            ("doccano", "doccano export (.jsonl, .zip)"),
            ("labelstudio", "Label Studio export (JSON or JSON-MIN)"),
        ],
        initial="auto",
    )
    annotator = forms.CharField(
        label="Annotator of unattributed annotations",
        required=False,
        max_length=150,
        help_text="Username of the member who made annotations the file does not name anyone "
        "for (brat files outside an annotator folder, a single doccano file).",
    )
    annotator_map = forms.CharField(
        label="Rename annotators",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="name=username pairs, one per line or separated by commas: a Label Studio "
        "user id or email, or a brat folder name, and the member it is here.",
    )
