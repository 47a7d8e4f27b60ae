"""Alibaba Cloud SMS (Dysmsapi 2017-05-25): a ``CreateSmsTemplate`` request body per template,
submitted through ``alibabacloud-dysmsapi20170525``, reviewed with ``GetSmsTemplate``.

* ``${name}`` placeholders (the provider's grammar: ``${`` … ``}``; it has no escape, so such
  text in the fixed part is refused); each variable once, never two side by side;
* the 【signature】 leaves the content for ``RelatedSignName`` (required for domestic types);
* ``TemplateType`` 1 notification / 2 promotional, or 3 with ``IntlType`` 0/1 when the
  template's jurisdiction is not mainland China; ``TemplateRule`` maps each variable to one of
  the documented variable attributes (from ``[variables.X] type``, else the samples' shapes);
* ``Remark``: purpose, approval note and a complete example, as the API asks.

References: API reference "CreateSmsTemplate" (help.aliyun.com, Dysmsapi 2017-05-25) and the SDK's
``CreateSmsTemplateRequest``; "TemplateRule&TemplateContent参数填写示例" (help.aliyun.com/document_detail/2806243);
"通知短信模板规范" (help.aliyun.com/document_detail/463270); "申请短信模板" (at most 100 templates per day
through the API, at least 30 s apart).
"""

from __future__ import annotations

import json
import re

from tmplstudio.pack.targets.base import (
    APPROVED, CANCELLED, REJECTED, REVIEWING, Converted, Refused, Review, Source, SubmitError, Target, Text, Var,
    kind, literal_syntax, no_adjacent_variables, not_all_variables, provider_message, remark, round_trip,
    sdk_missing, sms_only, split_endpoint, split_signature, variables,
)

PROVIDER = "Alibaba Cloud"
PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_CONTENT = 500          # TemplateContent: at most 500 characters
MAX_NAME = 30              # TemplateName: at most 30 characters
VALUE_CHARS = (1, 35)      # each variable's value at send time
OPT_OUT = "拒收请回复R"      # promotional templates end with it
TEMPLATE_TYPE = {"notification": 1, "marketing": 2}
INTERNATIONAL = 3
INTL_TYPE = {"notification": 0, "marketing": 1}
# TemplateRule variable attributes (document 2806243); a declared type may name one directly.
ATTRIBUTES = ("numberCaptcha", "characterWithNumber2", "time", "money", "user_nick", "name", "unit_name", "address",
              "license_plate_number", "tracking_number", "pick_up_code", "other_number2", "phone_number2",
              "link_param", "email_address", "others")
ATTRIBUTE_OF_KIND = {"name": "name", "money": "money", "time": "time", "phone": "phone_number2",
                     "number": "other_number2", "link": "link_param", "text": "others"}


def attribute(source: Source, var: Var) -> str:
    declared = str(source.declared(var.name).get("type", "")).strip()
    if declared in ATTRIBUTES:
        return declared
    found = kind(source, var)
    if found not in ATTRIBUTE_OF_KIND:
        raise Refused(f"variable '{var.name}': type '{declared}' has no Alibaba Cloud variable attribute; use one of "
                      f"{', '.join(ATTRIBUTE_OF_KIND)} or an attribute name ({', '.join(ATTRIBUTES)})",
                      source.declared_at(var.name, var.start))
    return ATTRIBUTE_OF_KIND[found]


def each_variable_once(source: Source) -> None:
    seen: set[str] = set()
    for var in variables(source.parts):
        if not NAME.match(var.name):
            raise Refused(f"variable '{var.name}': {PROVIDER} variable names are letters, digits and '_'", var.start)
        if var.name in seen:
            raise Refused(f"variable '{var.name}' is used twice: an {PROVIDER} template names each variable once; "
                          "use a second variable (it may hold the same value)", var.start)
        seen.add(var.name)


def value_lengths(source: Source) -> None:
    low, high = VALUE_CHARS
    for var in variables(source.parts):
        declared = source.declared(var.name).get("max_len")
        if isinstance(declared, int) and not isinstance(declared, bool) and declared > high:
            raise Refused(f"variable '{var.name}' declares max_len = {declared}; {PROVIDER} takes {low}–{high} "
                          "characters per variable", source.declared_at(var.name, var.start))
        for sample, value in source.values(var):
            if not low <= len(value) <= high:
                raise Refused(f"variable '{var.name}' is {len(value)} characters in sample '{sample}'; {PROVIDER} "
                              f"takes {low}–{high} characters per variable", var.start)


def marketing_opt_out(source: Source) -> None:
    if source.meta.category != "marketing":
        return
    last = source.parts[-1] if source.parts else None
    if not (isinstance(last, Text) and last.text.rstrip().endswith(OPT_OUT)):
        end = last.offsets[-1] if isinstance(last, Text) else (last.end if last else None)
        raise Refused(f"a promotional template must end with “{OPT_OUT}” ({PROVIDER} promotional-template rules)", end)


def convert(source: Source) -> Converted:
    meta = source.meta
    domestic = source.domestic_cn
    sign, body = split_signature(source, PROVIDER, required=domestic)
    content = "".join(p.text if isinstance(p, Text) else "${%s}" % p.name for p in body)
    if len(content) > MAX_CONTENT:
        raise Refused(f"the template content is {len(content)} characters; {PROVIDER} takes at most {MAX_CONTENT}")
    if len(meta.id) > MAX_NAME:
        raise Refused(f"template id '{meta.id}' is {len(meta.id)} characters; TemplateName takes at most {MAX_NAME}",
                      source.template.key_positions.get("id", (0, 0))[0])
    found = variables(body)
    round_trip(source, content, PLACEHOLDER, lambda s: {v.name: source.value(s, v) for v in found},
               prefix=f"【{sign}】" if sign else "")
    payload: dict = {"TemplateName": meta.id, "TemplateContent": content}
    if domestic:
        payload["TemplateType"] = TEMPLATE_TYPE[meta.category]
    else:
        payload["TemplateType"] = INTERNATIONAL
        payload["IntlType"] = INTL_TYPE[meta.category]
    if sign:
        payload["RelatedSignName"] = sign
    payload["Remark"] = remark(source)
    if found:
        payload["TemplateRule"] = json.dumps({v.name: attribute(source, v) for v in found}, ensure_ascii=False)
    params = [{"placeholder": "${%s}" % v.name, **v.manifest} for v in found]
    return Converted(f"aliyun/{meta.id}.json", payload, {"sign_name": sign, "params": params})


# -- submitting ---------------------------------------------------------------------------------------------------

STATUS = {"0": REVIEWING, "1": APPROVED, "2": REJECTED, "10": CANCELLED}


class Client:
    """CreateSmsTemplate and GetSmsTemplate through the official SDK; credentials come from
    Alibaba Cloud's default credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, the shared
    profile, an instance role), never from the project."""

    def __init__(self, endpoint: str | None):
        try:
            from alibabacloud_credentials.client import Client as Credentials
            from alibabacloud_dysmsapi20170525 import models
            from alibabacloud_dysmsapi20170525.client import Client as Sms
            from alibabacloud_tea_openapi import models as openapi
        except ImportError:
            raise sdk_missing("aliyun", "alibabacloud-dysmsapi20170525") from None
        scheme, host = split_endpoint(endpoint, "dysmsapi.aliyuncs.com")
        try:
            self.sdk = Sms(openapi.Config(credential=Credentials(), endpoint=host, protocol=scheme, region_id="cn-hangzhou"))
        except Exception as exc:  # the credential chain found nothing
            raise SubmitError(f"no Alibaba Cloud credentials: {provider_message(exc)}") from None
        self.models = models

    def create(self, body: dict) -> Review:
        try:
            reply = self.sdk.create_sms_template(self.models.CreateSmsTemplateRequest().from_map(body)).body
        except Exception as exc:
            raise SubmitError(provider_message(exc)) from None
        if reply.code != "OK" or not reply.template_code:
            raise SubmitError(f"{reply.code}: {reply.message}")
        return Review(reply.template_code, REVIEWING, f"order {reply.order_id}" if reply.order_id else "")

    def review(self, code: str, query: dict) -> Review:
        try:
            reply = self.sdk.get_sms_template(self.models.GetSmsTemplateRequest(template_code=code)).body
        except Exception as exc:
            raise SubmitError(provider_message(exc)) from None
        if reply.code != "OK":
            raise SubmitError(f"{reply.code}: {reply.message}")
        status = STATUS.get(str(reply.template_status), REVIEWING)
        reason = reply.audit_info.reject_info if status == REJECTED and reply.audit_info else ""
        return Review(code, status, reason or "")


TARGET = Target(
    name="aliyun",
    description="Alibaba Cloud SMS: Dysmsapi 2017-05-25 CreateSmsTemplate request bodies",
    convert=convert,
    pack="aliyun",
    folder="aliyun",
    refusals=(sms_only, literal_syntax(r"\$\{[^{}]*\}", "${…}"), each_variable_once, no_adjacent_variables(PROVIDER),
              not_all_variables(PROVIDER), value_lengths, marketing_opt_out),
    api="Dysmsapi 2017-05-25 CreateSmsTemplate (POST https://dysmsapi.aliyuncs.com/, RPC); review: GetSmsTemplate",
    connect=Client,
    min_interval=30.0,
)
