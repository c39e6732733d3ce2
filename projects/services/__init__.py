"""Writes, one function per use case, keyword-only and transactional, in stage order:
projects → documents → annotations. Views, the API, commands and tasks call these; they never
write models themselves."""
