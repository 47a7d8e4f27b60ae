"""``length``: characters and SMS parts of each sample, and of the longest path at the longest
values (declared ``max_len`` included)."""

from __future__ import annotations

from tmplstudio.policy.kinds.base import Hit, Kind
from tmplstudio.policy.model import Severity
from tmplstudio.policy.units import path_units
from tmplstudio.text.sms import sms_stats

LIMIT_KEYS = ("segments", "chars", "severity")


class Length(Kind):
    name = "length"
    keys = ("counting", "limits")
    required = ("limits",)

    def validate(self, params) -> None:
        params.choice("counting", ("gsm", "cn"), 'counting must be "gsm" or "cn"')
        limits = params.get("limits")
        if not isinstance(limits, list) or not limits:
            params.problem("limits", "'limits' must be a list like [{ segments = 2, severity = \"warning\" }]")
            return
        for lim in limits:
            if not isinstance(lim, dict):
                params.problem("limits", "each limit needs 'segments' or 'chars' (and optional 'severity')")
                return
            unknown = [k for k in lim if k not in LIMIT_KEYS]
            if unknown:
                from tmplstudio.template.meta import did_you_mean

                params.problem("limits", f"unknown limit key '{unknown[0]}'{did_you_mean(unknown[0], LIMIT_KEYS)}", code="unknown-key")
            elif not ({"segments", "chars"} & set(lim)):
                params.problem("limits", "each limit needs 'segments' or 'chars' (and optional 'severity')")
            elif any(k in lim and (not isinstance(lim[k], int) or isinstance(lim[k], bool) or lim[k] < 1) for k in ("segments", "chars")):
                params.problem("limits", "a limit's segments and chars must be whole numbers of at least 1")
            elif "severity" in lim and lim["severity"] not in ("error", "warning", "info"):
                params.problem("limits", "limit severity must be error, warning or info")

    def run(self, i, rule, ctx) -> list[Hit]:
        counting = rule.params.get("counting", "gsm")
        worst: tuple[int, Hit] | None = None
        # Without samples, measure the literal text (each {{ }} counted as one character).
        candidates = [(u, False) for u in (ctx.sample_units or [ctx.source_unit])]
        if ctx.pathset and ctx.pathset.paths and (ctx.template.meta.samples or ctx.template.meta.variables):
            longest = max(path_units(ctx, longest=True, raw_only=True), key=lambda u: sms_stats(u.raw, counting).units, default=None)
            if longest is not None:
                candidates.append((longest, True))
        for unit, synthetic in candidates:
            stats = sms_stats(unit.raw, counting)
            for limit in rule.params["limits"]:
                sev = Severity(limit.get("severity", rule.severity.value))
                over = None
                if "chars" in limit and stats.chars > limit["chars"]:
                    over = (f"{stats.chars} characters; the limit is {limit['chars']}", limit["chars"])
                elif "segments" in limit and stats.segments > limit["segments"]:
                    per = {"GSM-7": 153, "UCS-2": 67, "CN": 67}[stats.encoding]
                    over = (f"{stats.segments} SMS parts ({stats.encoding}, {stats.chars} characters); the limit is {limit['segments']}", limit["segments"] * per)
                if over is None:
                    continue
                if synthetic:
                    start, end = ctx.body_line_span(last=True)
                    where = f" on the path {unit.label}" if unit.label else ""
                    message = f"{rule.message}: the longest message{where}, with the longest sample values and declared max_len, is {over[0]}"
                    hit = Hit(rule, start, end, ctx.template.source[start:end][:40], None, sev, message=message, path=unit.label)
                    score = sev.rank * 1_000_000 + stats.units - 1  # a real sample wins a tie
                else:
                    start, end = ctx.overflow_span(unit, over[1])
                    hit = Hit(rule, start, end, ctx.template.source[start:end][:40], unit.sample, sev,
                              message=f"{rule.message}: {over[0]}")
                    score = sev.rank * 1_000_000 + stats.units
                if worst is None or score > worst[0]:
                    worst = (score, hit)
        return [worst[1]] if worst else []
