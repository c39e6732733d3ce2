"""Export writers over plain records: one module per format, no Django."""
