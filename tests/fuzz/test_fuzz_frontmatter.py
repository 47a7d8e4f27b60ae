"""Fuzz: the front-matter parser and template parsing never raise, and every offset they
report lies inside the source."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from tmplstudio.template import frontmatter
from tmplstudio.template.source import parse_template

FM_BITS = st.sampled_from([
    "+++", "+++\n", "+++\r\n", " +++ \n", "\n", "\r\n", "id = \"x\"\n", "locale = \"zh-CN\"\n", "channel = 'sms'\n",
    "[samples.a]\n", "[samples.a]\nname = \"张三\"\n", "[flags]\nattorney_involved = true\n", "policies = [\"zh\"]\n",
    "send_window = \"08:00-21:00\"\n", "jurisdiction = [\"CN\"]\n", "subject = \"{{ name }}\"\n", "x = [\n", "= =\n",
    "\"unterminated\n", "[[samples]]\n", "a.b.c = 1\n", "\ufeff", "\x00", "\u2028", "{{ name }}", "上门", "[", "]", "#",
    "idd = 1\n", "channel = 5\n", "locale = \"\"\n", "samples = 3\n", "[samples]\na = 1\n",
])
SOURCES = st.lists(st.one_of(FM_BITS, st.text(max_size=8)), max_size=25).map("".join)
SETTINGS = settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@SETTINGS
@given(SOURCES)
def test_split_never_raises_and_offsets_are_inside(source):
    sp = frontmatter.split(source)
    assert 0 <= sp.fm_start <= len(source)
    assert 0 <= sp.body_start <= len(source)
    if sp.has_front_matter:
        assert source.lstrip("\ufeff").startswith("+++")  # a byte-order mark may precede the fence
        assert sp.fm_start <= sp.body_start
        assert source[sp.fm_start:sp.fm_start + len(sp.fm_text)] == sp.fm_text
    else:
        assert sp.body_start == 0 and not sp.problems
    for p in sp.problems:
        assert 0 <= p.start <= p.end <= len(source), p


@SETTINGS
@given(SOURCES)
def test_key_offsets_point_at_the_keys(source):
    sp = frontmatter.split(source)
    if not sp.has_front_matter:
        return
    for key, (start, end) in frontmatter.key_offsets(sp.fm_text, sp.fm_start).items():
        assert 0 <= start <= end <= len(source)


@SETTINGS
@given(SOURCES, st.sampled_from([None, "zh-CN", "en-US", "xx"]))
def test_parse_template_never_raises_and_problems_are_inside(source, locale):
    t = parse_template(source, "fuzz.j2", locale)
    assert t.meta.id
    assert 0 <= t.body_start <= len(source)
    for p in t.problems:
        assert 0 <= p.start <= p.end <= len(source), p
    for offset in (0, t.body_start, len(source)):
        line, col = t.position(offset)
        assert line >= 1 and col >= 1
        assert t.offset_of(line, col) == offset


@SETTINGS
@given(SOURCES, st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True))
def test_adding_a_sample_variable_keeps_the_body(source, name):
    from tmplstudio.errors import InputError

    try:
        out = frontmatter.add_sample_variable(source, name)
    except (InputError, ValueError):
        return  # refused with a message (front matter not valid TOML, no samples...)
    before, after = frontmatter.split(source), frontmatter.split(out)
    assert out[after.body_start:] == source[before.body_start:]
