"""Approved template packs: the approvals ledger, approval status, reproducible export and verify.

Pure library (no Textual, no printing); the CLI commands ``approve``, ``status``, ``export``
and ``verify`` and the studio's Approve action are thin clients of it. See docs/approval.md.
"""
