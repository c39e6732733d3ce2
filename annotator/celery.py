"""The Celery application. Workers start with ``celery -A annotator worker``.

Tasks live in ``projects/tasks.py``; they take ids, call a service, and are safe to run twice
(``acks_late`` means a task whose worker dies is delivered again).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")

app = Celery("annotator")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
