"""Screens and dialogs of the studio (help, policy browser, confirmations, new template)."""
