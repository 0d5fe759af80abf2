"""Properties of the image reference parser (issue 8.1): round trips, and no exception but its own."""

from __future__ import annotations

import string

from hypothesis import assume, example, given
from hypothesis import strategies as st

from ecrlint.analysis.images import InvalidReference, analyze, classify_host, parse_reference

# --- valid references, built from the distribution/reference grammar ---------------------------

_lower_alnum = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
_separator = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def path_components(draw) -> str:
    parts = [draw(_lower_alnum)]
    for _ in range(draw(st.integers(0, 2))):
        parts += [draw(_separator), draw(_lower_alnum)]
    return "".join(parts)


_domain_label = st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?\Z")
_port = st.integers(1, 65535).map(str)


@st.composite
def domains(draw) -> str:
    """A host that the reference grammar reads as a registry (it has a dot, a port, or is localhost)."""
    shape = draw(st.sampled_from(["dotted", "port", "localhost", "ipv6", "upper"]))
    if shape == "dotted":
        host = ".".join(draw(st.lists(_domain_label, min_size=2, max_size=4)))
    elif shape == "port":
        host = draw(_domain_label) + ":" + draw(_port)
    elif shape == "localhost":
        host = "localhost"
    elif shape == "ipv6":
        host = "[" + draw(st.sampled_from(["::1", "2001:db8::1", "fe80::a:b", "0:0:0:0:0:0:0:1"])) + "]"
    else:
        host = draw(st.from_regex(r"\A[A-Z][a-zA-Z0-9]{0,6}\Z"))
    if shape != "port" and draw(st.booleans()):
        host += ":" + draw(_port)
    return host


_tag = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_digest = st.one_of(
    st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256:" + h),
    st.text("0123456789abcdef", min_size=128, max_size=128).map(lambda h: "sha512:" + h),
)


@st.composite
def references(draw) -> tuple[str | None, str, str | None, str | None]:
    domain = draw(st.none() | domains())
    components = draw(st.lists(path_components(), min_size=1, max_size=4))
    if domain is None and len(components) > 1:
        # without a registry, a first component with a dot (or "localhost") would be read as one
        assume("." not in components[0] and components[0] != "localhost")
    path = "/".join(components)
    assume(not (domain is None and len(path) == 64 and all(c in "0123456789abcdef" for c in path)))
    tag = draw(st.none() | _tag)
    digest = draw(st.none() | _digest)
    return domain, path, tag, digest


def render(domain: str | None, path: str, tag: str | None, digest: str | None) -> str:
    return (f"{domain}/" if domain else "") + path + (f":{tag}" if tag is not None else "") + \
        (f"@{digest}" if digest is not None else "")


@given(references())
@example((None, "nginx", "1.25", None))
@example(("localhost:5000", "a/b", None, "sha256:" + "0" * 64))
@example(("[::1]:5000", "x", "_", None))
def test_parsing_a_rendered_reference_gives_back_its_parts(parts):
    ref = parse_reference(render(*parts))
    assert (ref.domain, ref.path, ref.tag, ref.digest) == parts
    assert not ref.unknown


@given(references())
def test_normalised_forms_parse_to_the_same_repository(parts):
    ref = parse_reference(render(*parts))
    for form in (ref.full, ref.familiar, ref.resolved):
        again = parse_reference(form)
        assert again.name == ref.name
        assert (again.digest or None) == (ref.digest or None)


# --- anything else: a reference or InvalidReference, never another exception --------------------

_image_chars = string.ascii_letters + string.digits + "._-/:@${}<>%# \t\n" + "\u00e9\u0130\u212a\ue000\U0001f600"
_images = st.one_of(st.text(max_size=80), st.text(_image_chars, max_size=80))


@given(_images, st.booleans(), st.booleans())
@example("${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:${Tag}", True, True)
@example("\ue000/x", False, True)
@example("a" * 300, False, True)
@example(":", False, True)
@example("@", True, False)
def test_parse_reference_raises_only_invalid_reference(text, symbolic, check_domain):
    try:
        ref = parse_reference(text, symbolic=symbolic, check_domain=check_domain)
    except InvalidReference as exc:
        assert isinstance(exc.reason, str) and exc.reason
        return
    # a parsed reference can always be rendered and normalised
    assert isinstance(ref.name, str) and isinstance(ref.resolved, str) and isinstance(ref.familiar, str)


@given(_images, st.booleans())
def test_analysis_and_host_classification_never_raise(text, symbolic):
    result = analyze(text, symbolic)
    assert result.value == text
    classify_host(text, symbolic=symbolic)
