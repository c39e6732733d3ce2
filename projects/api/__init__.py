"""The REST API v1, by stage: projects → documents → annotations."""
