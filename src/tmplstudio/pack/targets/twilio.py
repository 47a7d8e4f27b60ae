"""Twilio Content API: a ``POST /v1/Content`` request body (``twilio/text``) per template,
submitted through the ``twilio`` helper library; review from the Content API's approval
requests.

* ``{{1}}``… numbered by distinct variable (a repeated variable keeps its number; the same
  variable under a different mask is a different value); fixed text the provider would read
  as ``{{…}}`` is refused (it has no escape);
* ``variables`` holds neutral placeholders — the variable's name — never sample data: Twilio
  uses these values when a send omits a variable, so a sample would deliver another person's
  name or balance;
* the body is at most 1,600 characters.

Twilio does not review ``twilio/text`` content used for SMS; the Content API's approval status
is WhatsApp's, and ``submit --status`` reports it as such.

References: Content API "Content resource" and "twilio/text" (twilio.com/docs/content), the
library's ``ContentList.ContentCreateRequest``; "Content API approvals" (ApprovalRequests).
"""

from __future__ import annotations

import re

from tmplstudio.pack.targets.base import (
    APPROVED, NO_REVIEW, REJECTED, REVIEWING, Converted, Refused, Review, Source, SubmitError, Target, Text, Var,
    literal_syntax, provider_message, round_trip, sdk_missing, sms_only, split_endpoint, variables,
)

PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")
MAX_BODY = 1600


def neutral(var: Var) -> str:
    return var.name if var.mask is None else f"{var.name}|mask({var.mask['keep']})"


def convert(source: Source) -> Converted:
    meta = source.meta
    numbers: dict[tuple, int] = {}
    distinct: list[Var] = []
    for var in variables(source.parts):
        if var.key not in numbers:
            numbers[var.key] = len(numbers) + 1
            distinct.append(var)
    body = "".join(p.text if isinstance(p, Text) else "{{%d}}" % numbers[p.key] for p in source.parts)
    if len(body) > MAX_BODY:
        raise Refused(f"the body is {len(body)} characters; twilio/text allows {MAX_BODY}")
    round_trip(source, body, PLACEHOLDER, lambda s: {str(numbers[v.key]): source.value(s, v) for v in distinct})
    payload = {
        "friendly_name": meta.id,
        "language": meta.language,
        "variables": {str(numbers[v.key]): neutral(v) for v in distinct},
        "types": {"twilio/text": {"body": body}},
    }
    params = [{"placeholder": "{{%d}}" % numbers[v.key], **v.manifest} for v in distinct]
    return Converted(f"twilio/{meta.id}.json", payload, {"params": params})


# -- submitting ---------------------------------------------------------------------------------------------------

WHATSAPP = {"approved": APPROVED, "rejected": REJECTED, "paused": REJECTED, "disabled": REJECTED,
            "pending": REVIEWING, "received": REVIEWING, "unsubmitted": NO_REVIEW}


class Client:
    """Content create and approval fetch through the official library; credentials from the
    environment (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN), never from the project."""

    def __init__(self, endpoint: str | None):
        try:
            from twilio.rest import Client as Twilio
            from twilio.rest.content.v1.content import ContentList
        except ImportError:
            raise sdk_missing("twilio", "twilio") from None
        try:
            self.sdk = Twilio()
        except Exception as exc:
            raise SubmitError(f"no Twilio credentials: {provider_message(exc)}") from None
        if not (self.sdk.username and self.sdk.password):
            raise SubmitError("no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if endpoint:
            scheme, host = split_endpoint(endpoint, "content.twilio.com")
            self.sdk.content.base_url = f"{scheme}://{host}"
        self.request = ContentList.ContentCreateRequest

    def create(self, body: dict) -> Review:
        try:
            content = self.sdk.content.v1.contents.create(self.request(body))
        except Exception as exc:
            raise SubmitError(provider_message(exc)) from None
        return Review(content.sid, NO_REVIEW, "Twilio does not review twilio/text content for SMS")

    def review(self, code: str, query: dict) -> Review:
        try:
            approval = self.sdk.content.v1.contents(code).approval_fetch().fetch()
        except Exception as exc:
            raise SubmitError(provider_message(exc)) from None
        whatsapp = approval.whatsapp or {}
        status = str(whatsapp.get("status", "unsubmitted")).lower()
        reason = whatsapp.get("rejection_reason") or ""
        if status == "unsubmitted":
            reason = "no WhatsApp approval requested; SMS needs none"
        return Review(code, WHATSAPP.get(status, REVIEWING), f"WhatsApp: {status}" + (f": {reason}" if reason else ""))


TARGET = Target(
    name="twilio",
    description="Twilio Content API: POST /v1/Content request bodies (twilio/text)",
    convert=convert,
    pack="twilio",
    folder="twilio",
    refusals=(sms_only, literal_syntax(r"\{\{.*?\}\}", "{{…}}")),
    api="Content API POST https://content.twilio.com/v1/Content; review: GET /v1/Content/{sid}/ApprovalRequests",
    connect=Client,
)
