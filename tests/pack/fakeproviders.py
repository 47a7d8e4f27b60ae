"""A local stand-in for the three providers' template APIs, on 127.0.0.1 only: the SDKs are
pointed at it with their endpoint override. Each request is checked against the provider's
documented shape (action and version, authentication scheme, exactly the documented
parameters with their types); a request that does not match is answered with an error and
listed in ``problems``, so a test sees it. Nothing here reaches the internet."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ALIYUN_COMMON = {"RegionId"}  # the SDK signs with ACS3-HMAC-SHA256 headers; only API parameters are in the query
ALIYUN_CREATE = {"TemplateName": str, "TemplateContent": str, "TemplateType": int, "IntlType": int,
                 "RelatedSignName": str, "Remark": str, "TemplateRule": str}
TENCENT_ADD = {"TemplateName": str, "TemplateContent": str, "SmsType": int, "International": int, "Remark": str}


@dataclass
class Providers:
    aliyun_key: str = "LTAI-test-key"
    tencent_id: str = "AKID-test-id"
    twilio_sid: str = "AC" + "0" * 32
    requests: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # What the reviews say when polled.
    aliyun_status: int = 0
    aliyun_reject: str = ""
    tencent_status: int = 1
    tencent_reply: str = ""
    whatsapp: dict = field(default_factory=lambda: {"status": "unsubmitted"})
    counter: int = 0


class _Handler(BaseHTTPRequestHandler):
    state: Providers

    def log_message(self, *args):  # keep test output quiet
        pass

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _problem(self, text: str, payload: dict, status: int = 400) -> None:
        self.state.problems.append(text)
        self._reply(status, payload)

    def do_GET(self):
        url = urlsplit(self.path)
        m = re.fullmatch(r"/v1/Content/(HX[0-9a-f]{32})/ApprovalRequests", url.path)
        if not m:
            return self._problem(f"GET {url.path}: not a documented Content API path", {"message": "not found"}, 404)
        if not self._twilio_auth():
            return
        self.state.requests.append({"provider": "twilio", "action": "ApprovalFetch", "sid": m.group(1)})
        self._reply(200, {"sid": m.group(1), "account_sid": self.state.twilio_sid, "whatsapp": self.state.whatsapp,
                          "url": f"https://content.twilio.com{url.path}"})

    def do_POST(self):
        url = urlsplit(self.path)
        body = self._body()
        if url.path == "/v1/Content":
            return self._twilio_create(body)
        if self.headers.get("X-TC-Action"):
            return self._tencent(body)
        if self.headers.get("x-acs-action"):
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            query.update(dict(parse_qsl(body.decode(), keep_blank_values=True)))
            return self._aliyun(self.headers["x-acs-action"], query)
        self._problem(f"POST {url.path}: matches no provider API", {"message": "unknown"}, 404)

    # -- Alibaba Cloud (RPC style, parameters in the query, ACS3-HMAC-SHA256 signature) -----------------------
    def _aliyun(self, action: str, q: dict) -> None:
        st = self.state
        auth = self.headers.get("Authorization", "")
        if self.headers.get("x-acs-version") != "2017-05-25" or not auth.startswith(f"ACS3-HMAC-SHA256 Credential={st.aliyun_key},"):
            return self._problem(f"aliyun: bad version or authentication {auth[:40]}", {"Code": "InvalidAccessKeyId"})
        params = {k: v for k, v in q.items() if k not in ALIYUN_COMMON}
        if action == "CreateSmsTemplate":
            unknown = set(params) - set(ALIYUN_CREATE)
            missing = {"TemplateName", "TemplateContent", "TemplateType"} - set(params)
            bad = [k for k, t in ALIYUN_CREATE.items() if k in params and t is int and not params[k].lstrip("-").isdigit()]
            if "${" in params.get("TemplateContent", "") and "TemplateRule" not in params:
                missing.add("TemplateRule")
            if params.get("TemplateType") in ("0", "1", "2") and not params.get("RelatedSignName"):
                missing.add("RelatedSignName")
            if "TemplateRule" in params:
                try:
                    rule = json.loads(params["TemplateRule"])
                    if set(rule) != set(re.findall(r"\$\{([^{}]*)\}", params["TemplateContent"])):
                        bad.append("TemplateRule")
                except ValueError:
                    bad.append("TemplateRule")
            if unknown or missing or bad:
                return self._problem(f"aliyun CreateSmsTemplate: unknown {unknown}, missing {missing}, bad {bad}",
                                     {"Code": "isv.InvalidParameters", "Message": "bad request"})
            st.counter += 1
            code = f"SMS_{460000000 + st.counter}"
            st.requests.append({"provider": "aliyun", "action": "CreateSmsTemplate", "params": params, "code": code})
            return self._reply(200, {"Code": "OK", "Message": "OK", "RequestId": "R1", "TemplateCode": code,
                                     "TemplateName": params["TemplateName"], "OrderId": "2000001"})
        if action == "GetSmsTemplate":
            if set(params) != {"TemplateCode"}:
                return self._problem(f"aliyun GetSmsTemplate: {params}", {"Code": "isv.InvalidParameters"})
            st.requests.append({"provider": "aliyun", "action": "GetSmsTemplate", "params": params})
            return self._reply(200, {"Code": "OK", "Message": "OK", "RequestId": "R2", "TemplateCode": params["TemplateCode"],
                                     "TemplateStatus": str(st.aliyun_status),
                                     "AuditInfo": {"RejectInfo": st.aliyun_reject, "AuditDate": "2026-01-02 10:00:00"}})
        self._problem(f"aliyun: action {action} not expected", {"Code": "InvalidAction"})

    # -- Tencent Cloud (API 3.0, TC3-HMAC-SHA256) -----------------------------------------------------------------
    def _tencent(self, raw: bytes) -> None:
        st = self.state
        action, version = self.headers.get("X-TC-Action"), self.headers.get("X-TC-Version")
        auth = self.headers.get("Authorization", "")
        error = {"Response": {"Error": {"Code": "InvalidParameter", "Message": "bad request"}, "RequestId": "T0"}}
        if version != "2021-01-11" or not auth.startswith(f"TC3-HMAC-SHA256 Credential={st.tencent_id}/") \
                or self.headers.get("X-TC-Region") is None:
            return self._problem(f"tencent: bad version/region/authentication {version} {auth[:40]}", error)
        body = json.loads(raw or b"{}")
        if action == "AddSmsTemplate":
            wrong = {k for k, t in TENCENT_ADD.items() if not isinstance(body.get(k), t) or isinstance(body.get(k), bool)}
            unknown = set(body) - set(TENCENT_ADD)
            if wrong or unknown:
                return self._problem(f"tencent AddSmsTemplate: missing or mistyped {wrong}, unknown {unknown}", error)
            st.counter += 1
            template_id = str(1110 + st.counter)
            st.requests.append({"provider": "tencent", "action": action, "body": body, "code": template_id})
            return self._reply(200, {"Response": {"AddTemplateStatus": {"TemplateId": template_id}, "RequestId": "T1"}})
        if action == "DescribeSmsTemplateList":
            if set(body) != {"International", "TemplateIdSet"} or not all(isinstance(i, int) for i in body["TemplateIdSet"]):
                return self._problem(f"tencent DescribeSmsTemplateList: {body}", error)
            st.requests.append({"provider": "tencent", "action": action, "body": body})
            items = [{"TemplateId": i, "International": body["International"], "StatusCode": st.tencent_status,
                      "ReviewReply": st.tencent_reply, "TemplateName": "t", "CreateTime": 1767225600,
                      "TemplateContent": "…"} for i in body["TemplateIdSet"]]
            return self._reply(200, {"Response": {"DescribeTemplateStatusSet": items, "RequestId": "T2"}})
        self._problem(f"tencent: action {action} not expected", error)

    # -- Twilio Content API ---------------------------------------------------------------------------------------
    def _twilio_auth(self) -> bool:
        import base64

        auth = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.state.twilio_sid}:test-token".encode()).decode()
        if auth != expected:
            self._problem(f"twilio: bad authentication {auth[:20]}", {"code": 20003, "message": "Authenticate"}, 401)
            return False
        return True

    def _twilio_create(self, raw: bytes) -> None:
        if not self._twilio_auth():
            return
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self._problem("twilio: body is not JSON", {"code": 20001, "message": "bad content type"})
        body = json.loads(raw)
        ok = (set(body) <= {"friendly_name", "language", "variables", "types"} and isinstance(body.get("language"), str)
              and isinstance(body.get("types"), dict) and set(body["types"]) == {"twilio/text"}
              and isinstance(body["types"]["twilio/text"].get("body"), str)
              and all(isinstance(k, str) and isinstance(v, str) for k, v in (body.get("variables") or {}).items()))
        if not ok:
            return self._problem(f"twilio POST /v1/Content: {body}", {"code": 20001, "message": "invalid"})
        self.state.counter += 1
        sid = "HX" + f"{self.state.counter:032x}"
        self.state.requests.append({"provider": "twilio", "action": "ContentCreate", "body": body, "code": sid})
        self._reply(201, {"sid": sid, "account_sid": self.state.twilio_sid, "friendly_name": body.get("friendly_name"),
                          "language": body["language"], "variables": body.get("variables"), "types": body["types"],
                          "url": f"https://content.twilio.com/v1/Content/{sid}", "links": {}})


class Server:
    """``with Server() as s:`` — s.url is http://127.0.0.1:PORT, s.state what it saw."""

    def __init__(self):
        self.state = Providers()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def env(self) -> dict[str, str]:
        """Credentials for each SDK's standard environment variables (fake; the server checks them)."""
        return {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": self.state.aliyun_key, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            "TENCENTCLOUD_SECRET_ID": self.state.tencent_id, "TENCENTCLOUD_SECRET_KEY": "secret",
            "TWILIO_ACCOUNT_SID": self.state.twilio_sid, "TWILIO_AUTH_TOKEN": "test-token",
            "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
        }

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
