"""Starter templates for `ctrl+n` in the studio and `tmplstudio init`: compliant from the first save."""

from __future__ import annotations

import tomli_w

_BODIES = {
    ("zh", "sms"): "【某某消费金融】尊敬的{{ name }}，您本期账单应还{{ amount }}元，最后还款日为{{ due_date }}。如已还款请忽略，详询95xxx。",
    ("zh", "email"): "尊敬的{{ name }}：\n\n您本期账单应还{{ amount }}元，最后还款日为{{ due_date }}。如已还款请忽略本邮件。\n\n如有疑问请致电客服热线95xxx。\n某某消费金融",
    ("zh", "push"): "【某某消费金融】尊敬的{{ name }}，您本期账单应还{{ amount }}元，请于{{ due_date }}前还款，详询95xxx。",
    ("en", "sms"): "ACME Bank: Hi {{ name }}, your payment of ${{ amount }} is due {{ due_date }}. Pay at acme.example/pay or call 1-800-555-0100. Reply STOP to opt out.",
    ("en", "email"): "Hello {{ name }},\n\nThis is ACME Bank. Your payment of ${{ amount }} is due {{ due_date }}. Pay at acme.example/pay or call 1-800-555-0100.\n\nTo stop emails to this address, unsubscribe at acme.example/unsubscribe.\nACME Bank",
    ("en", "push"): "ACME Bank: Hi {{ name }}, your payment of ${{ amount }} is due {{ due_date }}. Questions? Call 1-800-555-0100. Reply STOP to opt out.",
}
_SAMPLES = {
    "zh": {"a": {"name": "张三", "amount": "1,280.00", "due_date": "6月15日"}, "long": {"name": "欧阳娜娜", "amount": "12,345.67", "due_date": "12月31日"}},
    "en": {"a": {"name": "Jane", "amount": "120.00", "due_date": "June 15"}, "long": {"name": "Maximilian", "amount": "12,345.67", "due_date": "December 31"}},
}


def starter_source(template_id: str, locale: str = "zh-CN", channel: str = "sms") -> str:
    lang = "zh" if locale.lower().startswith("zh") else "en"
    channel = channel if channel in ("sms", "email", "push") else "sms"
    meta: dict = {"id": template_id, "title": template_id.replace("-", " ").capitalize(), "locale": locale, "channel": channel,
                  "sender_role": "creditor", "audience": "debtor", "stage": "subsequent", "category": "notification"}
    if channel == "email":
        meta["subject"] = "账单还款提醒" if lang == "zh" else "ACME Bank: your payment reminder"
    meta["samples"] = _SAMPLES[lang]
    return f"+++\n{tomli_w.dumps(meta)}+++\n{_BODIES[(lang, channel)]}\n"
