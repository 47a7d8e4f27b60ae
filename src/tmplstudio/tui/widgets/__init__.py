"""The studio's widgets, one module per domain (editor, findings, preview, variables, template list)."""
