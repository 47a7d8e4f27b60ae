"""Tencent Cloud SMS (2021-01-11): an ``AddSmsTemplate`` request body per template, submitted
through ``tencentcloud-sdk-python-sms``, reviewed with ``DescribeSmsTemplateList``.

* ``{1}``…``{n}`` numbered in order of appearance (every occurrence its own number, each
  filled with the same value), with the parameter order in the manifest; two variables with
  nothing between them cannot be told apart and are refused, and so is fixed text the
  provider would read as ``{n}`` (it has no escape);
* the 【signature】 leaves the content (Tencent adds the registered one at send time through
  ``SignName``; the manifest carries it); ``SmsType`` 2 notification / 1 marketing;
  ``International`` 1 when the template's jurisdiction is not mainland China; ``Remark``
  (required): purpose, approval note and an example;
* a link may not be passed in a variable.

References: API reference "AddSmsTemplate" (cloud.tencent.com/document/api/382/55974: all five
parameters required, at most 2 requests per second), "DescribeSmsTemplateList"
(tencentcloud.com/document/api/382/40524), the SDK's ``AddSmsTemplateRequest``; "正文模板审核标准"
(cloud.tencent.com/document/product/382/39023); template FAQ (tencentcloud.com/document/product/382/13301:
links, short links included, cannot be variable values).
"""

from __future__ import annotations

import re

from tmplstudio.pack.targets.base import (
    APPROVED, REJECTED, REVIEWING, Converted, Refused, Review, Source, SubmitError, Target, Text, links_in_variables,
    literal_syntax, no_adjacent_variables, not_all_variables, provider_message, remark, round_trip, sdk_missing,
    sms_only, split_endpoint, split_signature, variables,
)

PROVIDER = "Tencent Cloud"
PLACEHOLDER = re.compile(r"\{(\d+)\}")
MAX_CONTENT = 500
SMS_TYPE = {"marketing": 1, "notification": 2}


def convert(source: Source) -> Converted:
    meta = source.meta
    domestic = source.domestic_cn
    sign, body = split_signature(source, PROVIDER, required=domestic)
    order = variables(body)
    pieces, n = [], 0
    for part in body:
        if isinstance(part, Text):
            pieces.append(part.text)
        else:
            n += 1
            pieces.append("{%d}" % n)
    content = "".join(pieces)
    if len(content) > MAX_CONTENT:
        raise Refused(f"the template content is {len(content)} characters; {PROVIDER} takes at most {MAX_CONTENT}")
    round_trip(source, content, PLACEHOLDER, lambda s: {str(i): source.value(s, v) for i, v in enumerate(order, 1)},
               prefix=f"【{sign}】" if sign else "")
    payload = {
        "TemplateName": meta.id,
        "TemplateContent": content,
        "SmsType": SMS_TYPE[meta.category],
        "International": 0 if domestic else 1,
        "Remark": remark(source),
    }
    params = [{"placeholder": "{%d}" % i, **v.manifest} for i, v in enumerate(order, 1)]
    return Converted(f"tencent/{meta.id}.json", payload, {"sign_name": sign, "params": params})


# -- submitting ---------------------------------------------------------------------------------------------------

# DescribeTemplateListStatus.StatusCode: 0 approved and in effect, 1 under review, 2 approved
# and not yet in effect, -1 rejected.
STATUS = {0: APPROVED, 1: REVIEWING, 2: APPROVED, -1: REJECTED}
REGION = "ap-guangzhou"


class Client:
    """AddSmsTemplate and DescribeSmsTemplateList through the official SDK; credentials from
    Tencent Cloud's default provider chain (TENCENTCLOUD_SECRET_ID/KEY, the profile file, an
    instance role), never from the project."""

    def __init__(self, endpoint: str | None):
        try:
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.sms.v20210111 import models, sms_client
        except ImportError:
            raise sdk_missing("tencent", "tencentcloud-sdk-python-sms") from None
        scheme, host = split_endpoint(endpoint, "sms.tencentcloudapi.com")
        try:
            cred = credential.DefaultCredentialProvider().get_credentials()
        except Exception as exc:
            raise SubmitError(f"no Tencent Cloud credentials: {provider_message(exc)}") from None
        profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host))
        self.sdk = sms_client.SmsClient(cred, REGION, profile)
        self.models = models

    def create(self, body: dict) -> Review:
        import json

        request = self.models.AddSmsTemplateRequest()
        request.from_json_string(json.dumps(body, ensure_ascii=False))
        try:
            reply = self.sdk.AddSmsTemplate(request)
        except Exception as exc:
            raise SubmitError(provider_message(exc)) from None
        return Review(str(reply.AddTemplateStatus.TemplateId), REVIEWING, query={"International": body["International"]})

    def review(self, code: str, query: dict) -> Review:
        request = self.models.DescribeSmsTemplateListRequest()
        request.International = int(query.get("International", 0))
        request.TemplateIdSet = [int(code)]
        try:
            reply = self.sdk.DescribeSmsTemplateList(request)
        except Exception as exc:
            raise SubmitError(provider_message(exc)) from None
        found = [s for s in reply.DescribeTemplateStatusSet or [] if str(s.TemplateId) == code]
        if not found:
            raise SubmitError(f"template {code} is not in the account's template list")
        return Review(code, STATUS.get(found[0].StatusCode, REVIEWING), found[0].ReviewReply or "", dict(query))


TARGET = Target(
    name="tencent",
    description="Tencent Cloud SMS: 2021-01-11 AddSmsTemplate request bodies",
    convert=convert,
    pack="tencent",
    folder="tencent",
    refusals=(sms_only, literal_syntax(r"\{\d+\}", "{n}"), no_adjacent_variables(PROVIDER), not_all_variables(PROVIDER),
              links_in_variables(PROVIDER)),
    api="SMS 2021-01-11 AddSmsTemplate (POST https://sms.tencentcloudapi.com/, TC3-HMAC-SHA256); review: DescribeSmsTemplateList",
    connect=Client,
    min_interval=0.5,
)
