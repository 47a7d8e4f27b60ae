"""Check an exported request body against the provider's official SDK request model: build the
SDK's request object from it and fail on any field the model does not know, any field of the
wrong type, and any field the API requires that is missing. Field lists and types are read off
the installed SDKs, not copied here; what the SDKs state only in prose (conditional
requirements, enum values) is asserted from the API references cited in docs/approval.md."""

from __future__ import annotations

import inspect
import json
import re
import warnings

PY_TYPES = {"str": str, "int": int, "List[str]": list, "list of int non-negative": list}


def _typed(value, name: str, type_name: str) -> None:
    expected = PY_TYPES[type_name]
    assert isinstance(value, expected) and not isinstance(value, bool), f"{name} must be {type_name}, got {value!r}"


def aliyun(body: dict) -> None:
    """Dysmsapi 2017-05-25 CreateSmsTemplateRequest (alibabacloud-dysmsapi20170525)."""
    from alibabacloud_dysmsapi20170525.models import CreateSmsTemplateRequest

    request = CreateSmsTemplateRequest().from_map(body)
    assert request.to_map() == body, f"fields CreateSmsTemplateRequest does not know: {set(body) - set(request.to_map())}"
    params = inspect.signature(CreateSmsTemplateRequest.__init__).parameters
    # The API name of each attribute, from the model itself.
    names = CreateSmsTemplateRequest(**{p: f"<{p}>" for p in params if p != "self"}).to_map()
    attr_of = {api: value[1:-1] for api, value in names.items()}
    for key, value in body.items():
        _typed(value, key, params[attr_of[key]].annotation)
    # "This parameter is required." in the model's comments.
    source = inspect.getsource(CreateSmsTemplateRequest.__init__)
    required, comment = set(), []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("#"):
            comment.append(line)
        elif m := re.match(r"self\.(\w+) = \w+$", line):
            if any("This parameter is required." in c for c in comment):
                required.add(m.group(1))
            comment = []
    assert required == {"template_content", "template_name", "template_type"}, required  # the SDK's own statement
    for attr in required:
        assert getattr(request, attr) is not None, f"{attr} is required"
    # Conditional requirements and enums, as the model's comments state them.
    assert body["TemplateType"] in (0, 1, 2, 3)
    if body["TemplateType"] in (0, 1, 2):
        assert body.get("RelatedSignName"), "RelatedSignName is required for TemplateType 0, 1 and 2"
    if body["TemplateType"] == 3:
        assert body.get("IntlType") in (0, 1, 2), "IntlType is required for TemplateType 3"
    else:
        assert "IntlType" not in body
    placeholders = re.findall(r"\$\{([^{}]*)\}", body["TemplateContent"])
    if placeholders:
        rule = json.loads(body["TemplateRule"])  # "required if the message template contains variables"
        assert set(rule) == set(placeholders), (rule, placeholders)
    assert len(body["TemplateContent"]) <= 500 and len(body["TemplateName"]) <= 30


def tencent(body: dict) -> None:
    """SMS 2021-01-11 AddSmsTemplateRequest (tencentcloud-sdk-python-sms)."""
    from tencentcloud.sms.v20210111.models import AddSmsTemplateRequest

    request = AddSmsTemplateRequest()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        request._deserialize(body)
    assert not caught, f"AddSmsTemplateRequest: {[str(w.message) for w in caught]}"  # "… fileds are useless"
    assert json.loads(request.to_json_string()) == body
    types = dict(re.findall(r":type (\w+): ([^\n]+)", AddSmsTemplateRequest.__init__.__doc__))
    # Every AddSmsTemplate parameter is required (API reference 382/55974: 必选 是).
    assert set(body) == set(types), (set(body), set(types))
    for key, value in body.items():
        _typed(value, key, types[key].strip())
    assert body["SmsType"] in (1, 2, 3) and body["International"] in (0, 1)
    numbers = [int(n) for n in re.findall(r"\{(\d+)\}", body["TemplateContent"])]
    assert numbers == list(range(1, len(numbers) + 1)), numbers


def _drop_none(value):
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def twilio(body: dict) -> None:
    """Content API POST /v1/Content: ContentList.ContentCreateRequest (twilio)."""
    from twilio.rest.content.v1.content import ContentList

    request = ContentList.ContentCreateRequest(body)
    assert _drop_none(request.to_dict()) == body, "fields ContentCreateRequest does not know"
    assert isinstance(request.friendly_name, str) and isinstance(request.language, str)  # language: required
    assert isinstance(request.variables, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                       for k, v in request.variables.items())
    assert isinstance(request.types, ContentList.Types)  # types: required
    text = request.types.twilio_text
    assert isinstance(text, ContentList.TwilioText) and isinstance(text.body, str) and len(text.body) <= 1600
    used = set(re.findall(r"\{\{([^{}]+)\}\}", text.body))
    assert used == set(request.variables), (used, request.variables)


CHECK = {"aliyun": aliyun, "tencent": tencent, "twilio": twilio}
