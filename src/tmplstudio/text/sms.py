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


def _segments(units: int, single: int, multi: int) -> int:
    if units == 0:
        return 0
    if units <= single:
        return 1
    return -(-units // multi)


_GSM_ALL = frozenset(GSM_BASIC | GSM_EXTENDED)


def gsm_stats(text: str) -> SmsStats:
    """International counting: GSM-7 160/153 unless one character forces UCS-2 (70/67)."""
    if _GSM_ALL.issuperset(text):
        units = len(text) + sum(text.count(c) for c in GSM_EXTENDED)
        return SmsStats(len(text), "GSM-7", units, _segments(units, 160, 153))
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2  # characters beyond U+FFFF take two
    return SmsStats(len(text), "UCS-2", units, _segments(units, 70, 67))


def cn_stats(text: str) -> SmsStats:
    """Chinese domestic counting (Alibaba/Tencent Cloud): every character counts 1; 70 single, 67 per part."""
    n = len(text)
    return SmsStats(n, "CN", n, _segments(n, 70, 67))


def sms_stats(text: str, counting: str = "gsm") -> SmsStats:
    return cn_stats(text) if counting == "cn" else gsm_stats(text)
