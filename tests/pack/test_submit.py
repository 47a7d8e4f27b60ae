"""`tmplstudio submit`: the official SDKs against a local stand-in for each provider (127.0.0.1,
endpoint override), the rate limits, the recorded codes and reviews, and `status` showing them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakeproviders import Server
from packkit import NOTICE_BODY, PROVIDER_PACKS, approve, cli, load, proj_dir, use_bundled, write  # noqa: F401 - fixture

from tmplstudio.errors import InputError
from tmplstudio.pack import submit, submitted
from tmplstudio.pack.export import build, write as write_pack
from tmplstudio.pack.targets import get


@pytest.fixture
def server(monkeypatch):
    with Server() as srv:
        for key, value in srv.env().items():
            monkeypatch.setenv(key, value)
        yield srv
    assert srv.state.problems == [], srv.state.problems  # every request had the documented shape


@pytest.fixture
def proj(proj_dir):
    use_bundled(proj_dir, *PROVIDER_PACKS)
    write(proj_dir, "second", "【示例银行】{{ name }}您好，请于今日确认{{ amount }}元，详询95555。\n")
    return proj_dir


def exported(root: Path, target: str, *names: str) -> Path:
    if target == "twilio":
        for name in names:
            path = root / "templates" / f"{name}.j2"
            path.write_text(path.read_text(encoding="utf-8").replace(
                'channel = "sms"', 'channel = "sms"\njurisdiction = ["US"]\nsender_role = "creditor"'), encoding="utf-8")
    approve(root, *names)
    result = build(load(root), target)
    assert sorted(result.included) == sorted(f"{n}.j2" for n in names), result.excluded
    write_pack(result, root / f"{target}.zip")
    return root / f"{target}.zip"


class FakeTime:
    """A clock that only moves when waited on: the pacing is observed, never slept."""

    def __init__(self):
        self.now, self.waits = 1000.0, []

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("target,interval", [("aliyun", 30.0), ("tencent", 0.5), ("twilio", 0.0)])
def test_submit_sends_the_exported_bodies_through_the_sdk_at_the_providers_pace(proj, server, target, interval):
    pack = exported(proj, target, "notice", "second")
    items = submit.plan(pack, get(target))
    time = FakeTime()
    client = get(target).connect(server.url)
    outcomes = submit.submit(proj / "templates", items, get(target), client, submit.Pacer(interval, time.wait, time.clock))
    sent = [r for r in server.state.requests if r["action"] in ("CreateSmsTemplate", "AddSmsTemplate", "ContentCreate")]
    assert len(sent) == 2 and [o.record.code for o in outcomes] == [r["code"] for r in sent]
    # What reached the provider is the exported body, field for field.
    for item, request in zip(items, sent):
        if target == "aliyun":
            assert request["params"] == {k: str(v) for k, v in item.body.items()}
        else:
            assert request["body"] == item.body
    assert time.waits == ([interval] if interval else [])  # one wait, between the two calls
    record = submitted.Submissions.load(proj / "templates")
    assert {r.path: r.code for r in record.records.values()} == {"notice.j2": sent[0]["code"], "second.j2": sent[1]["code"]}
    expected = "no-review" if target == "twilio" else "reviewing"
    assert {r.status for r in record.records.values()} == {expected}


def test_a_second_run_skips_what_was_submitted_and_resubmits_a_rejection(proj, server):
    pack = exported(proj, "tencent", "notice", "second")
    target, client = get("tencent"), get("tencent").connect(server.url)
    items = submit.plan(pack, target)
    submit.submit(proj / "templates", items, target, client)
    again = submit.submit(proj / "templates", items, target, client)
    assert [o.record for o in again] == [None, None] and "already submitted as 1111 (reviewing)" in again[0].message
    server.state.tencent_status, server.state.tencent_reply = -1, "模板内容涉及金融"
    polled = submit.poll(proj / "templates", target, client)
    assert [(s.path, s.status, s.reason) for s in polled] == [("notice.j2", "rejected", "模板内容涉及金融"),
                                                              ("second.j2", "rejected", "模板内容涉及金融")]
    third = submit.submit(proj / "templates", items, target, client)
    assert [o.record.code for o in third] == ["1113", "1114"]


def test_cli_submit_then_status_shows_the_providers_review(proj, server):
    exported(proj, "aliyun", "notice")
    env = server.env()
    r = cli(proj, "submit", "aliyun.zip", "--target", "aliyun", "--endpoint", server.url, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "submitted notice.j2: aliyun SMS_460000001 (reviewing)" in r.stdout
    r = cli(proj, "status", env=env)
    assert "aliyun SMS_460000001: reviewing" in r.stdout, r.stdout
    server.state.aliyun_status, server.state.aliyun_reject = 2, "变量属性与内容不符"
    r = cli(proj, "submit", "--status", "--target", "aliyun", "--endpoint", server.url, env=env)
    assert r.returncode == 1 and "rejected  notice.j2: aliyun SMS_460000001 (变量属性与内容不符)" in r.stdout, r.stdout
    data = json.loads(cli(proj, "status", "--format", "json", env=env).stdout)
    notice = next(t for t in data["templates"] if t["path"] == "notice.j2")
    assert notice["submissions"] == [{"target": "aliyun", "code": "SMS_460000001", "status": "rejected",
                                      "reason": "变量属性与内容不符", "sha256": notice["approval"]["sha256"]}]
    server.state.aliyun_status = 1
    r = cli(proj, "submit", "--status", "--target", "aliyun", "--endpoint", server.url, env=env)
    assert r.returncode == 0 and "approved  notice.j2: aliyun SMS_460000001" in r.stdout
    # After an edit, status says the review was of an earlier version.
    path = proj / "templates" / "notice.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("及时", "尽快"), encoding="utf-8")
    assert "aliyun SMS_460000001: approved — an earlier version of the file" in cli(proj, "status", env=env).stdout


def test_twilio_review_reports_whatsapp_status(proj, server):
    pack = exported(proj, "twilio", "notice")
    target, client = get("twilio"), get("twilio").connect(server.url)
    submit.submit(proj / "templates", submit.plan(pack, target), target, client)
    server.state.whatsapp = {"status": "rejected", "rejection_reason": "INVALID_FORMAT"}
    [sub] = submit.poll(proj / "templates", target, client)
    assert (sub.status, sub.reason) == ("rejected", "WhatsApp: rejected: INVALID_FORMAT")


def test_dry_run_prints_the_exact_requests_and_calls_nothing(proj):
    pack = exported(proj, "tencent", "notice", "second")
    r = cli(proj, "submit", pack.name, "--target", "tencent", "--dry-run", env={"TENCENTCLOUD_SECRET_ID": ""})
    assert r.returncode == 0, r.stderr
    assert "# SMS 2021-01-11 AddSmsTemplate" in r.stdout and "at least 0.5 s apart" in r.stdout
    for item in submit.plan(pack, get("tencent")):
        assert f"# {item.path} ({item.file})\n" + json.dumps(item.body, ensure_ascii=False, indent=2) in r.stdout
    assert not (proj / "templates" / "submissions.toml").exists()


def test_submit_refuses_a_pack_for_another_target_a_tampered_pack_and_missing_credentials(proj, server):
    pack = exported(proj, "tencent", "notice")
    with pytest.raises(InputError, match="exported for target 'tencent', not 'aliyun'"):
        submit.plan(pack, get("aliyun"))
    r = cli(proj, "submit", pack.name, "--target", "aliyun", "--dry-run")
    assert r.returncode == 2 and "exported for target 'tencent'" in r.stderr
    import zipfile

    with zipfile.ZipFile(pack) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["tencent/notice.json"] = files["tencent/notice.json"].replace("及时".encode(), "马上".encode())
    with zipfile.ZipFile(proj / "bad.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    r = cli(proj, "submit", "bad.zip", "--target", "tencent", "--endpoint", server.url, env=server.env())
    assert r.returncode == 2 and "the pack does not verify" in r.stderr and not server.state.requests
    # Twilio takes credentials from the environment only; without them nothing is sent.
    twilio_pack = exported(proj, "twilio", "notice")
    env = {**server.env(), "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    r = cli(proj, "submit", twilio_pack.name, "--target", "twilio", "--endpoint", server.url, env=env)
    assert r.returncode == 2 and "no Twilio credentials" in r.stderr and not server.state.requests


def test_a_provider_error_is_recorded_and_fails_the_run(proj, server):
    pack = exported(proj, "twilio", "notice")
    env = {**server.env(), "TWILIO_AUTH_TOKEN": "wrong"}
    r = cli(proj, "submit", pack.name, "--target", "twilio", "--endpoint", server.url, env=env)
    server.state.problems.clear()  # the bad token is the point of this test
    assert r.returncode == 1 and "submitted notice.j2: failed: 20003: Unable to create record: Authenticate" in r.stdout, \
        r.stdout + r.stderr
    [record] = submitted.Submissions.load(proj / "templates").records.values()
    assert record.status == "failed" and record.reason.startswith("20003")


def test_submit_without_the_sdk_names_the_extra(proj, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_sdk(name, *args, **kwargs):
        if name.startswith("tencentcloud"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sdk)
    with pytest.raises(InputError, match=r"pip install 'tmplstudio\[tencent\]'"):
        get("tencent").connect(None)
