"""The span-create body's fast validation gives exactly what the serializer gives, or steps
aside (None) so the serializer answers: it must never accept what ``SpanIn`` refuses, nor
read a body differently."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from projects.api.serializers import SpanIn, span_in_fast

texts = st.one_of(
    st.sampled_from(["Claim", " Claim", "Claim\n", "", " ", "a\x00b", "\ud800", "é", "x" * 64]),
    st.text(max_size=70),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.sampled_from([0, 5, -1, 2**53, 2**53 - 1, 1.0, 2.5, "5", "5.0", " 7 ", "x"]),
    st.floats(allow_nan=False),
    texts,
)
values = st.one_of(
    scalars, st.lists(scalars, max_size=2), st.dictionaries(texts, scalars, max_size=2)
)
bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "start": values,
            "end": values,
            "label": values,
            "client_id": values,
            "version": values,
            "attributes": st.one_of(values, st.dictionaries(texts, texts, max_size=3)),
            "other": values,
        },
    ),
    values,
)


def _serializer(body: Any) -> dict[str, Any] | None:
    data = SpanIn(data=body)
    return dict(data.validated_data) if data.is_valid() else None


@settings(max_examples=3000, deadline=None)
@given(bodies)
@example({"start": 0, "end": 5, "label": "Claim"})
@example({"start": 0, "end": 5, "label": "Claim", "client_id": "s1", "version": 3})
@example({"start": 0, "end": 5, "label": "Claim", "attributes": {"source": "", "stance": "pro"}})
@example({"start": 0, "end": 5, "label": "Claim", "attributes": {"source": " x"}})
@example({"start": True, "end": 5, "label": "Claim"})
@example({"start": 0, "end": 5, "label": "a\x00b"})
@example({"start": 0, "end": 5, "label": "Claim", "client_id": "\ud800"})
@example({"start": 0, "end": 5, "label": "Claim", "attributes": {"source": "\x00"}})
@example({"start": 0, "end": 5, "label": "Claim", "client_id": "x" * 65})
@example({"start": 0, "end": 5, "label": "Claim", "version": -1})
def test_the_fast_path_agrees_with_the_serializer(body: Any) -> None:
    fast = span_in_fast(body)
    if fast is not None:
        assert fast == _serializer(body)


def test_the_fast_path_takes_what_the_workspace_and_scripts_send() -> None:
    body = {"start": 3, "end": 9, "label": "Claim", "client_id": "s-12", "version": 4}
    assert span_in_fast(body) == body
    body = {"start": 3, "end": 9, "label": "Claim", "attributes": {"stance": "con", "source": ""}}
    assert span_in_fast(body) == body
