"""The Celery application. Workers start with ``celery -A annotator worker``.

Tasks live in ``projects/tasks.py``; they take ids, call a service, and are safe to run twice
(``acks_late`` means a task whose worker dies is delivered again).
"""

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")

app = Celery("annotator")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A task's log lines carry the id of the web request that queued it: the id travels as a
# message header, and is bound for the task's duration in the worker.
@signals.before_task_publish.connect
def _send_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    from annotator.logs import request_id

    if headers is not None and request_id() != "-":
        headers.setdefault("request_id", request_id())


@signals.task_prerun.connect
def _bind_request_id(task: Any = None, **_: Any) -> None:
    from annotator.logs import bind_request_id

    incoming = getattr(task.request, "request_id", None) if task is not None else None
    _tokens[id(task)] = bind_request_id(incoming or f"task-{task.request.id}")


@signals.task_postrun.connect
def _unbind_request_id(task: Any = None, **_: Any) -> None:
    from annotator.logs import unbind_request_id

    token = _tokens.pop(id(task), None)
    if token is not None:
        unbind_request_id(token)


_tokens: dict[int, Any] = {}
