"""A corpus of server-side template injection and resource-exhaustion payloads.

Collected from the classic Jinja2 SSTI write-ups and payload lists (PayloadsAllTheThings,
HackTricks, the onsecurity.io Jinja2 article, the CVE-2016-10745 / CVE-2019-10906 /
CVE-2024-56326 / CVE-2025-27516 format-string escapes) and from reading Jinja's own sandbox,
filters and code generator for anything that allocates or loops without bound.

Each entry is (id, template body, rules that may report it). ``MARKER`` in a body is replaced by
a path the test then checks was never created. Samples define ``x``, ``request``, ``config``
and ``user`` (strings), so Flask-style payloads are attribute walks, not undefined variables.
"""

from __future__ import annotations

SANDBOX = frozenset({"sandbox", "render-error"})
STRUCTURE = frozenset({"jinja-syntax"})  # refused before rendering: too deep or too many tokens

SAMPLES = '+++\n[samples.a]\nx = "1"\nrequest = "r"\nconfig = "c"\nuser = "u"\nitems = ["a", "b"]\n+++\n'


def _nested(open_: str, close: str, n: int, inner: str = "x") -> str:
    return open_ * n + inner + close * n


_MACRO_FAN = "{% macro a() %}x{% endmacro %}" + "".join(
    "{% macro " + name + "() %}" + ("{{ " + prev + "() }}") * 10 + "{% endmacro %}"
    for prev, name in zip("abcdefg", "bcdefgh")
) + "{{ h() }}"

# ---------------------------------------------------------------- attribute walks: execute nothing
ESCAPES: list[tuple[str, str, frozenset[str]]] = [
    ("mro-subclasses", "{{ ''.__class__.__mro__[1].__subclasses__() }}", SANDBOX),
    ("base-subclasses", "{{ ().__class__.__base__.__subclasses__() }}", SANDBOX),
    ("list-subclasses-open", "{{ [].__class__.__base__.__subclasses__()[40]('MARKER', 'w').write('x') }}", SANDBOX),
    ("attr-filter-class", "{{ ''|attr('__class__') }}", SANDBOX),
    ("attr-filter-hex-escaped", "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f')|attr('\\x5f\\x5fmro\\x5f\\x5f') }}", SANDBOX),
    ("getitem-dunder", "{{ ''['__class__'] }}", SANDBOX),
    ("cycler-globals-os", "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}", SANDBOX),
    ("joiner-globals-os", "{{ joiner.__init__.__globals__.os.system('touch MARKER') }}", SANDBOX),
    ("namespace-globals-os", "{{ namespace.__init__.__globals__.os.system('touch MARKER') }}", SANDBOX),
    ("lipsum-globals-os", "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}", SANDBOX | {"undefined-variable"}),
    ("range-globals-builtins", "{{ range.__globals__['__builtins__']['open']('MARKER', 'w') }}", SANDBOX),
    ("self-init-globals", "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch MARKER') }}", SANDBOX),
    ("self-dict", "{{ self.__dict__ }}", SANDBOX),
    ("template-reference-context", "{{ self._TemplateReference__context }}", SANDBOX),
    ("context-cycler-os", "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch MARKER') }}", SANDBOX),
    ("request-application-globals",
     "{{ request.application.__globals__.__builtins__.__import__('os').popen('touch MARKER').read() }}", SANDBOX),
    ("request-attr-chain",
     "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')|attr('\\x5f\\x5fgetitem\\x5f\\x5f')('\\x5f\\x5fbuiltins\\x5f\\x5f') }}",
     SANDBOX),
    ("config-class-init-globals", "{{ config.__class__.__init__.__globals__['os'].popen('touch MARKER').read() }}", SANDBOX),
    ("config-class", "{{ config.__class__ }}", SANDBOX),
    ("user-reduce-ex", "{{ user.__reduce_ex__(2) }}", SANDBOX),
    ("int-class", "{{ (1).__class__.__base__ }}", SANDBOX),
    ("dict-init", "{{ dict.__init__.__globals__ }}", SANDBOX),
    ("loop-class-globals", "{% for i in items %}{{ loop.__class__.__init__.__globals__ }}{% endfor %}", SANDBOX),
    ("macro-func-globals", "{% macro m() %}{% endmacro %}{{ m._func.__globals__ }}", SANDBOX),
    ("caller-globals", "{% macro m() %}{{ caller.__init__.__globals__ }}{% endmacro %}{% call m() %}x{% endcall %}", SANDBOX),
    ("format-class-stored", '{% set f = "{0.__class__.__mro__}".format %}{{ f(1) }}', SANDBOX),
    ("format-map-stored", '{% set f = "{0.__class__}".format_map %}{{ f({"0": 1}) }}', SANDBOX),
    ("format-via-attr-filter", '{{ "{0.__class__}"|attr("format")(1) }}', SANDBOX),
    ("format-globals", '{{ "{0.__init__.__globals__}".format(cycler) }}', SANDBOX),
    ("percent-format-class", "{{ '%s'|format(''.__class__) }}", SANDBOX),
    ("percent-op-class", "{{ '%s' % ''.__class__ }}", SANDBOX),
    ("getitem-chain-hex",
     "{{ request['application']['\\x5f\\x5fglobals\\x5f\\x5f']['\\x5f\\x5fbuiltins\\x5f\\x5f']['\\x5f\\x5fimport\\x5f\\x5f']('os') }}", SANDBOX),
    ("blind-if-walk", "{% if ''.__class__.__mro__[1].__subclasses__() %}yes{% endif %}", SANDBOX),
    ("subclass-loop-catch-warnings",
     "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
     "{{ c()._module.__builtins__['__import__']('os').system('touch MARKER') }}{% endif %}{% endfor %}", SANDBOX),
    ("dict-join-builds-dunder", "{% set a = dict(__cla=1, ss__=1)|join %}{{ ''|attr(a) }}", SANDBOX),
    ("list-join-builds-dunder", "{% set a = ['_' * 2, 'class', '_' * 2]|join %}{{ (''|attr(a)).__mro__ }}", SANDBOX),
    ("format-builds-dunder", "{% set a = '%c%cclass%c%c'|format(95, 95, 95, 95) %}{{ ''|attr(a) }}", SANDBOX),
    ("lower-builds-dunder", "{{ ''|attr('__CLASS__'|lower) }}", SANDBOX),
    ("url-for-globals", "{{ url_for.__globals__['os'].popen('touch MARKER') }}", SANDBOX | {"undefined-variable"}),
    ("flashed-messages-globals", "{{ get_flashed_messages.__globals__['os'] }}", SANDBOX | {"undefined-variable"}),
    ("with-block-walk", "{% with c = cycler %}{{ c.__init__.__globals__.os.system('touch MARKER') }}{% endwith %}", SANDBOX),
    ("macro-arg-walk", "{% macro m(o) %}{{ o.__class__.__mro__ }}{% endmacro %}{{ m(x) }}", SANDBOX),
    ("list-append-self", "{% set l = [1] %}{{ l.append(l) }}", SANDBOX),
    ("list-extend-doubling", "{% set l = [1] %}{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}{{ l|length }}", SANDBOX),
    ("dict-update", "{% set d = dict(a=1) %}{{ d.update(b=2) }}", SANDBOX),
    ("include-etc-passwd", "{% include '/etc/passwd' %}", SANDBOX | {"missing-partial"}),
    ("include-dot-dot", "{% include '../../../../../../etc/passwd' %}", SANDBOX | {"missing-partial"}),
    ("import-etc-passwd", "{% import '/etc/passwd' as p %}{{ p }}", SANDBOX | {"missing-partial"}),
    ("extends-etc-passwd", "{% extends '/etc/passwd' %}", SANDBOX | {"missing-partial"}),
]

# ---------------------------------------------------------------- time and memory bombs
BOMBS: list[tuple[str, str, frozenset[str]]] = [
    ("range-1e9", "{{ range(10**9) }}", SANDBOX),
    ("for-range-1e9", "{% for i in range(10**9) %}{% endfor %}", SANDBOX),
    ("string-times-1e9", "{{ 'x' * 10**9 }}", SANDBOX),
    ("1e9-times-string", "{{ 10**9 * 'x' }}", SANDBOX),
    ("list-times-1e9", "{{ [1, 2] * 10**9 }}", SANDBOX),
    ("power-huge", "{{ 2 ** 100000000 }}", SANDBOX),
    ("power-chain", "{% set x = 2**64 %}{% set x = x**64 %}{% set x = x**64 %}{% set x = x**64 %}{% set x = x**64 %}{{ x > 1 }}", SANDBOX),
    ("int-squaring", "{% set ns = namespace(x=2**64) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}{{ 1 }}", SANDBOX),
    ("nested-loops", "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}", SANDBOX),
    ("triple-nested-loops", "{% for a in range(999) %}{% for b in range(999) %}{% for c in range(999) %}{{ '' }}{% endfor %}{% endfor %}{% endfor %}", SANDBOX),
    ("loop-output-flood", "{% for a in range(99999) %}{{ 'yyyyyyyyyy' }}{% endfor %}", SANDBOX),
    ("recursive-macro", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", SANDBOX | {"macro-recursion"}),
    ("recursive-macro-args", "{% macro m(n) %}{{ m(n ~ n) }}{% endmacro %}{{ m('x') }}", SANDBOX | {"macro-recursion"}),
    ("mutual-recursion", "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", SANDBOX | {"macro-recursion"}),
    ("macro-fan-out-10^7", _MACRO_FAN, SANDBOX | {"too-many-paths"}),
    ("recursive-loop", "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", SANDBOX),
    ("recursive-loop-wide", "{% for x in range(99999) recursive %}{% if loop.depth < 3 %}{{ loop(range(99999)) }}{% endif %}{% endfor %}", SANDBOX),
    ("set-doubling", "{% set s = 'x' * 99999 %}" + "{% set s = s ~ s %}" * 30 + "{{ s|length }}", SANDBOX),
    ("set-huge-string", "{% set s = 'x' * 99999 %}{% set t = s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s %}{{ t|length }}", SANDBOX),
    ("set-block-huge", "{% set s %}{% for i in range(99999) %}xxxxxxxxxx{% endfor %}{% endset %}{{ s|length }}", SANDBOX),
    ("set-block-references", "{% set b = 'x' * 99999 %}{% set s %}{% for i in range(99999) %}{{ b }}{% endfor %}{% endset %}{{ s|length }}", SANDBOX),
    ("macro-body-references", "{% set b = 'x' * 99999 %}{% macro m() %}{% for i in range(99999) %}{{ b }}{% endfor %}{% endmacro %}{{ m()|length }}", SANDBOX),
    ("filter-block-references", "{% set b = 'x' * 99999 %}{% filter upper %}{% for i in range(99999) %}{{ b }}{% endfor %}{% endfilter %}", SANDBOX),
    ("call-block-references", "{% set b = 'x' * 99999 %}{% macro m() %}{{ caller()|length }}{% endmacro %}{% call m() %}{% for i in range(99999) %}{{ b }}{% endfor %}{% endcall %}", SANDBOX),
    ("namespace-accumulate", "{% set ns = namespace(s='') %}{% for i in range(99999) %}{% set ns.s = ns.s ~ ('x' * 99999) %}{% endfor %}", SANDBOX),
    ("plus-accumulate", "{% set ns = namespace(s='') %}{% for i in range(99999) %}{% set ns.s = ns.s + ('x' * 9999) %}{% endfor %}", SANDBOX),
    ("format-width", "{{ '{:>999999999}'.format(1) }}", SANDBOX),
    ("format-precision", "{{ '{:.999999999f}'.format(1.5) }}", SANDBOX),
    ("format-nested-width", "{{ '{:{}}'.format(1, 999999999) }}", SANDBOX),
    ("format-repeat-field", "{{ ('{0}' * 30000).format('x' * 99999) }}", SANDBOX),
    ("format-map-width", "{{ '{a:>999999999}'.format_map({'a': 1}) }}", SANDBOX),
    ("percent-width", "{{ '%999999999d' % 1 }}", SANDBOX),
    ("percent-star-width", "{{ '%*d' % (999999999, 1) }}", SANDBOX),
    ("percent-precision", "{{ '%.999999999d' % 1 }}", SANDBOX),
    ("percent-named-width", "{{ '%(a)999999999s' % {'a': 1} }}", SANDBOX),
    ("percent-repeat", "{{ ('%s' * 30000) % ((('x' * 99999),) * 30000) }}", SANDBOX),
    ("format-filter-width", "{{ '%999999999s'|format(1) }}", SANDBOX),
    ("str-ljust", "{{ 'x'.ljust(999999999) }}", SANDBOX),
    ("str-rjust", "{{ 'x'.rjust(999999999) }}", SANDBOX),
    ("str-center", "{{ 'x'.center(999999999) }}", SANDBOX),
    ("str-zfill", "{{ 'x'.zfill(999999999) }}", SANDBOX),
    ("str-expandtabs", "{{ 'x\\t'.expandtabs(999999999) }}", SANDBOX),
    ("str-expandtabs-many", "{{ ('\\t' * 99999).expandtabs(9999) }}", SANDBOX),
    ("str-replace-empty", "{{ ('x' * 99999).replace('', 'y' * 99999) }}", SANDBOX),
    ("str-join-huge", "{{ 'x'.join(['y' * 99999] * 99999) }}", SANDBOX),
    ("str-translate", "{{ ('a' * 99999).translate({97: 'b' * 99999}) }}", SANDBOX),
    ("str-encode-utf32", "{{ ('x' * 99999).encode('utf-32') }}", SANDBOX),
    ("join-filter-huge-range", "{{ range(99999)|join('x' * 99999) }}", SANDBOX),
    ("join-filter-range", "{{ range(99999)|join(',') }}", SANDBOX),
    ("join-nested-lists", "{% set l = range(99999)|list %}{{ ([l] * 1000)|join }}", SANDBOX),
    ("indent-width", "{{ 'x\\ny'|indent(10**9) }}", SANDBOX),
    ("indent-string", "{{ ('\\n' * 99999)|indent('x' * 99999) }}", SANDBOX),
    ("center-filter", "{{ 'a'|center(10**9) }}", SANDBOX),
    ("wordwrap-1", "{{ ('x' * 99999)|wordwrap(1) }}", SANDBOX),
    ("wordwrap-wrapstring", "{{ ('x ' * 49999)|wordwrap(1, wrapstring='y' * 99999) }}", SANDBOX),
    ("truncate-width", "{{ 'x'|truncate(10**9) }}", SANDBOX),
    ("batch-fill", "{{ range(3)|batch(10**9, 'x')|list }}", SANDBOX),
    ("slice-huge", "{{ range(99999)|slice(10**9)|list }}", SANDBOX),
    ("replace-filter", "{{ ('x' * 99999)|replace('', 'y' * 99999) }}", SANDBOX),
    ("map-center", "{{ range(99999)|map('center', 9999)|list|length }}", SANDBOX),
    ("map-select-chain", "{{ range(99999)|select('odd')|map('string')|join }}", SANDBOX),
    ("sort-unique-huge", "{{ (range(99999)|list * 1)|map('string')|map('center', 9000)|unique|list|length }}", SANDBOX),
    ("nested-print", "{% set l = range(99999)|list %}{{ [l] * 1000 }}", SANDBOX),
    ("nested-string-filter", "{% set l = range(99999)|list %}{{ ([l] * 1000)|string }}", SANDBOX),
    ("nested-tojson", "{% set l = range(99999)|list %}{{ ([l] * 1000)|tojson }}", SANDBOX),
    ("nested-pprint", "{% set l = range(99999)|list %}{{ ([l] * 1000)|pprint }}", SANDBOX),
    ("nested-concat", "{% set l = range(99999)|list %}{{ 'x' ~ ([l] * 1000) }}", SANDBOX),
    ("nested-percent", "{% set l = range(99999)|list %}{{ '%s' % ([l] * 1000,) }}", SANDBOX),
    ("nested-format", "{% set l = range(99999)|list %}{{ '{}'.format([l] * 1000) }}", SANDBOX),
    ("namespace-print", "{% set l = range(99999)|list %}{% set ns = namespace(a=[l] * 1000) %}{{ ns }}", SANDBOX),
    ("sum-lists", "{% set l = range(99999)|list %}{{ ([l] * 1000)|sum(start=[])|length }}", SANDBOX),
    ("loop-cycle-flood", "{% for c in range(99999) %}{{ loop.cycle('a' * 9999, 'b') }}{% endfor %}", SANDBOX),
    ("cycler-flood", "{% set c = cycler('a' * 9999) %}{% for i in range(99999) %}{{ c.next() }}{% endfor %}", SANDBOX),
    ("joiner-flood", "{% set j = joiner('x' * 9999) %}{% for i in range(99999) %}{{ j() }}{% endfor %}", SANDBOX),
    ("lipsum-removed", "{{ lipsum(10**6) }}", SANDBOX | {"undefined-variable"}),
    ("big-int-to-text", "{{ 10 ** 9000 }}", SANDBOX),
    ("nested-ifs-3000", _nested("{% if x %}", "{% endif %}", 3000), STRUCTURE),
    ("nested-fors-500", _nested("{% for a in items %}", "{% endfor %}", 500), STRUCTURE),
    ("nested-parens-3000", "{{ " + _nested("(", ")", 3000, "1") + " }}", STRUCTURE),
    ("filter-chain-3000", "{{ x" + "|string" * 3000 + " }}", STRUCTURE),
    ("nested-dicts-2000", "{{ " + _nested("{'a': ", "}", 2000, "1") + " }}", STRUCTURE),
    ("list-literal-100k", "{{ [" + "1," * 100_000 + "1] }}", STRUCTURE),
    ("tags-20000", "{{ x }}" * 20_000, STRUCTURE),
    ("sequential-ifs-5000", "{% if x %}a{% else %}b{% endif %}" * 5000, STRUCTURE),
]

PAYLOADS = ESCAPES + BOMBS
