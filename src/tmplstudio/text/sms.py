"""SMS length, encoding and segment counting (GSM 03.38 / 3GPP TS 23.038 and CN carrier rules)."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 7-bit default alphabet (basic table), from 3GPP TS 23.038.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs two septets (ESC + code).
GSM_EXTENDED = set("\f^{}\\[~]|€")


@dataclass(frozen=True)
class SmsStats:
    chars: int        # characters as the reader sees them
    encoding: str     # "GSM-7" | "UCS-2" | "CN" (every character counts 1)
    units: int        # septets (GSM-7), UTF-16 code units (UCS-2) or characters (CN)
    segments: int

    def describe(self) -> str:
        unit = "part" if self.segments == 1 else "parts"
        return f"{self.chars} chars · {self.encoding} · {self.segments} {unit}"


def is_gsm(ch: str) -> bool:
    return ch in GSM_BASIC or ch in GSM_EXTENDED


def _segments(costs, single: int, multi: int) -> int:
    """Parts for characters costing ``costs`` units each. A character is never split across
    parts: an extension-table character (ESC + code, 2 septets) or a character outside the
    BMP (a UTF-16 surrogate pair) that would straddle a boundary moves whole to the next part,
    as handsets and SMS centres do (3GPP TS 23.038 §6.2.1.1; concatenation per TS 23.040)."""
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts += 1
            used = 0
        used += cost
    return parts


_GSM_ALL = frozenset(GSM_BASIC | GSM_EXTENDED)


def gsm_stats(text: str) -> SmsStats:
    """International counting: GSM-7 160/153 unless one character forces UCS-2 (70/67)."""
    if _GSM_ALL.issuperset(text):
        costs = [2 if c in GSM_EXTENDED else 1 for c in text]
        return SmsStats(len(text), "GSM-7", sum(costs), _segments(costs, 160, 153))
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]  # characters beyond U+FFFF take two UTF-16 units
    return SmsStats(len(text), "UCS-2", sum(costs), _segments(costs, 70, 67))


def cn_stats(text: str) -> SmsStats:
    """Chinese domestic counting (Alibaba/Tencent Cloud): every character counts 1; 70 single, 67 per part."""
    n = len(text)
    return SmsStats(n, "CN", n, _segments([1] * n, 70, 67))


def sms_stats(text: str, counting: str = "gsm") -> SmsStats:
    return cn_stats(text) if counting == "cn" else gsm_stats(text)
