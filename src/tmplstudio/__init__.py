"""tmplstudio: compliance checks for debt-collection message templates."""

__version__ = "0.1.0"
