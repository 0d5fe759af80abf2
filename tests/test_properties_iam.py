"""Properties of the IAM glob matchers (issue 8.1): they agree with straightforward reference versions.

The references follow the IAM User Guide literally (reference_policies_elements_action.html and
reference_policies_elements_resource.html, https://docs.aws.amazon.com/IAM/latest/UserGuide/).
Actions: case-insensitive, ``*`` any run, ``?`` one character. Resources: case-sensitive, ``?`` one
character other than ``:``, ``*`` any run within an ARN segment, except that a ``*`` ending a segment
(followed by ``:`` or at the end) may run across
``:``. For a resource that itself holds wildcards ("some resource of this shape"), the question is
whether one string matches both, answered here by trying every short string.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from hypothesis import example, given
from hypothesis import strategies as st

from ecrlint.analysis.iam import action_matches, resource_matches


def reference_action_match(pattern: str, action: str) -> bool:
    """Textbook glob matching by dynamic programming, ASCII case folded."""
    p, a = pattern.lower(), action.lower()

    @lru_cache(maxsize=None)
    def match(i: int, j: int) -> bool:
        if i == len(p):
            return j == len(a)
        if p[i] == "*":
            return match(i + 1, j) or (j < len(a) and match(i, j + 1))
        return j < len(a) and (p[i] == "?" or p[i] == a[j]) and match(i + 1, j + 1)

    return match(0, 0)


def reference_resource_regex(pattern: str) -> re.Pattern[str]:
    out = []
    for i, c in enumerate(pattern):
        if c == "*":
            ends_segment = i + 1 == len(pattern) or pattern[i + 1] == ":"
            out.append(".*" if ends_segment else "[^:]*")
        elif c == "?":
            out.append("[^:]")
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


def reference_resource_match(pattern: str, resource: str) -> bool:
    return reference_resource_regex(pattern).fullmatch(resource) is not None


def reference_overlap(p: str, q: str) -> bool:
    """Is there a string both patterns match? Tries every string up to the length that settles it.

    A shortest common string never has a character that a ``*`` consumes on both sides (drop it and
    both still match), so its length is at most the number of non-``*`` characters of both; and it
    needs no character besides the literals written plus one that is neither ``:`` nor a literal.
    """
    literals = sorted(set((p + q).replace("*", "").replace("?", "")))
    alphabet = literals + ["#"]
    limit = sum(c != "*" for c in p) + sum(c != "*" for c in q)
    rp, rq = reference_resource_regex(p), reference_resource_regex(q)
    for n in range(limit + 1):
        for chars in itertools.product(alphabet, repeat=n):
            s = "".join(chars)
            if rp.fullmatch(s) and rq.fullmatch(s):
                return True
    return False


# --- actions ------------------------------------------------------------------------------------

_action_chars = st.sampled_from(list("ecrECR:*?Gg-") + ["Get", "Image", "ecr:", "*", "?"])
_actions = st.lists(_action_chars, max_size=8).map("".join)
_names = st.lists(st.sampled_from(list("ecrECR:Gg-") + ["Get", "Image", "ecr:"]), max_size=8).map("".join)


@given(_actions, _names)
@example("ecr:Get*", "ecr:GetDownloadUrlForLayer")
@example("ECR:batchgetimage", "ecr:BatchGetImage")
@example("ecr:?etAuthorizationToken", "ecr:GetAuthorizationToken")
@example("ecr:*Layer", "ecr:GetDownloadUrlForLayers")
@example("*", "")
@example("ecr:Get?", "ecr:Get")
def test_action_matching_agrees_with_a_reference_glob(pattern, action):
    assert action_matches(pattern, action) == reference_action_match(pattern, action)


_METACHARACTERS = "abcABC:*?.+[](){}^$|\\\n"


@given(st.text(_METACHARACTERS, max_size=10), st.text(_METACHARACTERS, max_size=10))
def test_action_patterns_with_regex_metacharacters_are_literal(pattern, action):
    assert action_matches(pattern, action) == reference_action_match(pattern, action)


# --- resources ----------------------------------------------------------------------------------

_arn_parts = ["arn:aws:ecr:", "us-east-1:", "123456789012:", "repository/", "team/", "app", ":", "/", "a", "b"]
_resource_pieces = st.sampled_from(_arn_parts)
_resources = st.lists(_resource_pieces, max_size=7).map("".join)
_patterns = st.lists(st.one_of(_resource_pieces, st.sampled_from(["*", "?", "*:", "*/", "?:"])), max_size=7).map("".join)


@given(_patterns, _resources)
@example("arn:aws:ecr:*:*:repository/*", "arn:aws:ecr:us-east-1:123456789012:repository/team/app")
@example("arn:aws:ecr:us-east-1:123456789012:repository/team/*", "arn:aws:ecr:us-east-1:123456789012:repository/team/app")
@example("arn:aws:ecr:*", "arn:aws:ecr:us-east-1:123456789012:repository/app")
@example("arn:aws:ecr:us-*-1:*", "arn:aws:ecr:us-east-1:1:repository/app")
@example("arn:aws:e?r:*", "arn:aws:ecr:x")
@example("a?b", "a:b")
@example("*", "")
def test_resource_matching_agrees_with_a_reference_for_concrete_resources(pattern, resource):
    assert resource_matches(pattern, resource) == reference_resource_match(pattern, resource)


_tiny = st.lists(st.sampled_from(["a", "b", ":", "/", "*", "?"]), max_size=4).map("".join)


@given(_tiny, _tiny)
@example("a*", "*b")
@example("a*:b", "a:*")
@example("?", ":")
@example("*:", "a*")
def test_resource_overlap_agrees_with_a_brute_force_search(pattern, shape):
    assert resource_matches(pattern, shape) == reference_overlap(pattern, shape)


_anything = st.lists(st.sampled_from(list("arn:aws*?${}/AWS::Region aws:username ") + ["${", "}", "${AWS::AccountId}"]),
                     max_size=20).map("".join)


@given(_anything, _anything)
def test_matchers_never_raise(pattern, resource):
    assert resource_matches(pattern, resource) in (True, False, None)
    assert action_matches(pattern, resource) in (True, False)
