"""Pure-Python core: no Django, no third-party imports, so it is testable in milliseconds."""
