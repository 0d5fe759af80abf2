"""Template functions whose result changes from one render to the next, and the fixed values used instead.

Helm gives a chart the clock (`now`), randomness (`randAlphaNum`, `uuidv4`, ...) and key and
certificate generation (`genCA`, `htpasswd`, ...). Rendered as-is, a chart that calls them gives
different manifests, finding messages and SARIF fingerprints on every run; both engines render
them with the fixed values below instead, so one chart always lints the same.

Deliberately not listed: `derivePassword` (the Master Password algorithm: the same inputs always
give the same password), `buildCustomCert` and `decryptAES` (they only decode what they are given),
and `getHostByName` (Helm answers "" offline). `date`, `dateInZone`, `unixEpoch` and friends are
deterministic too: they format the time they are passed (`now` is what varies).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

NONDETERMINISTIC_FUNCTIONS: frozenset[str] = frozenset({
    "now", "ago",
    "randAlpha", "randAlphaNum", "randAscii", "randNumeric", "randBytes", "randInt", "shuffle", "uuidv4",
    "genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
    "genSignedCert", "genSignedCertWithKey",
    "htpasswd", "bcrypt", "encryptAES",
})
FIXED_NOW = "2000-01-01T00:00:00Z"  # `now` unless SOURCE_DATE_EPOCH says otherwise (see fixed_now)
FIXED_UUID = "00000000-0000-4000-8000-000000000000"
FIXED_LETTER = "x"
FIXED_DIGIT = "0"
FIXED_CERT = "-----BEGIN CERTIFICATE-----\nZWNybGludCBvZmZsaW5lIHBsYWNlaG9sZGVy\n-----END CERTIFICATE-----\n"
FIXED_KEY = "-----BEGIN PRIVATE KEY-----\nZWNybGludCBvZmZsaW5lIHBsYWNlaG9sZGVy\n-----END PRIVATE KEY-----\n"
FIXED_BCRYPT = "$2a$10$ecrlintofflineplaceholderhashvalue000000000000000000"


def fixed_now() -> datetime:
    """The time templates see in both engines: SOURCE_DATE_EPOCH (whole seconds; the
    reproducible-builds convention, https://reproducible-builds.org/specs/source-date-epoch/) or FIXED_NOW."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 12:
        try:
            return datetime.fromtimestamp(int(text), UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.fromisoformat(FIXED_NOW.replace("Z", "+00:00"))


def fixed_now_text() -> str:
    return fixed_now().strftime("%Y-%m-%dT%H:%M:%SZ")
