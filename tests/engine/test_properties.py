"""The engine never raises, whatever the template text."""

from hypothesis import HealthCheck, given, settings, strategies as st

from tmplstudio.policy.engine import evaluate

from enginekit import make_pack

PACK = make_pack("""
[[rules]]
id = "p"
kind = "phrases"
severity = "error"
message = "m"
phrases = ["上门", "arrest*"]
[[rules]]
id = "v"
kind = "variables"
severity = "error"
message = "m"
checks = ["masking", "samples", "edges", "adjacent", "all-variable"]
sensitive = ["card*"]
""")

jinja_bits = st.sampled_from(["{{", "}}", "{%", "%}", "{#", "#}", "{{ x }}", "{% if x %}", "{% endif %}", "+++", "\n",
                              "上门", "【", "】", "x", " ", "{{ card|mask }}", "{% for i in x %}", "{% endfor %}", "\u200b", "=", "\""])
sources = st.lists(st.one_of(jinja_bits, st.text(max_size=5)), max_size=30).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(sources)
def test_engine_never_raises_on_arbitrary_template_source(source):
    ev = evaluate(source, "x.j2", [PACK])
    for f in ev.findings:
        assert 0 <= f.start <= f.end <= len(source)
        assert f.line >= 1 and f.column >= 1


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=300))
def test_engine_never_raises_on_arbitrary_text_with_samples(text):
    source = '+++\n[samples.a]\nx = "1"\n+++\n' + text
    evaluate(source, "x.j2", [PACK])
