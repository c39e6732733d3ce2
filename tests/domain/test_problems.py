from __future__ import annotations

from projects.domain.problems import MAX_PROBLEMS, ImportFailed, Problem


def test_problem_as_dict_leaves_out_unknown_locations() -> None:
    assert Problem("bad", field="text").as_dict() == {
        "code": "invalid",
        "message": "bad",
        "field": "text",
    }


def test_problem_as_dict_includes_every_known_location() -> None:
    problem = Problem("bad", file="a.jsonl", line=3, field="id", code="duplicate")
    assert problem.as_dict() == {
        "code": "duplicate",
        "message": "bad",
        "file": "a.jsonl",
        "line": 3,
        "field": "id",
    }


def test_problem_reads_as_file_line_field_then_message() -> None:
    problem = Problem("text is empty", file="file.jsonl", line=3, field="text")
    assert str(problem) == "file.jsonl, line 3, field text: text is empty"
    assert str(Problem("text is empty")) == "text is empty"


def test_import_failed_keeps_every_problem_below_the_cap() -> None:
    problems = [Problem(f"p{i}") for i in range(3)]
    error = ImportFailed(problems)
    assert error.problems == tuple(problems)
    assert "p0" in str(error)


def test_import_failed_summarises_problems_beyond_the_cap() -> None:
    error = ImportFailed(Problem(f"p{i}") for i in range(MAX_PROBLEMS + 25))
    assert len(error.problems) == MAX_PROBLEMS + 1
    assert error.problems[-1].message == "... and 25 more problems"
    assert error.problems[MAX_PROBLEMS - 1].message == f"p{MAX_PROBLEMS - 1}"
