"""``send_window``: the template's declared send window must lie inside the allowed hours."""

from __future__ import annotations

import re

from tmplstudio.policy.kinds.base import Hit, Kind


class SendWindow(Kind):
    name = "send_window"
    keys = ("allowed",)
    required = ("allowed",)

    def validate(self, params) -> None:
        allowed = params.get("allowed")
        if not isinstance(allowed, str) or not re.match(r"^\d\d:\d\d-\d\d:\d\d$", allowed):
            params.problem("allowed", "'allowed' must look like \"08:00-21:00\"")

    def run(self, i, rule, ctx) -> list[Hit]:
        window = ctx.template.meta.send_window
        if not window:
            return []
        allowed = rule.params["allowed"]
        a0, a1 = (_minutes(x) for x in allowed.split("-"))
        w0, w1 = (_minutes(x) for x in window.split("-"))
        if w0 >= a0 and w1 <= a1 and w0 < w1:
            return []
        start, end = ctx.template.key_positions.get("send_window", (0, 0))
        line_end = ctx.template.source.find("\n", end)
        end = line_end if line_end >= 0 else len(ctx.template.source)
        return [Hit(rule, start, end, ctx.template.source[start:end], None, rule.severity,
                    message=f"{rule.message}: send_window {window} is outside the allowed {allowed} (recipient local time)")]


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
