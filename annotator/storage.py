"""Static files in production: hashed names (cached forever), compressed, and ES module imports
rewritten to the hashed names.

The workspace is a set of ES modules importing each other (``import … from "./state.js"``).
Without the rewrite, ``main.js`` would be served under its hashed name but fetch its modules by
their plain names, so a browser could mix the modules of two releases right after a deploy.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage

__all__ = ["StaticStorage"]


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
