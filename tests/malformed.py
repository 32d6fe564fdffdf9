"""The corpus of malformed values the request tests send, and the check every answer must pass."""

MARK = "<script>alert('x')</script>"
HUGE = "9" * 100_000
BAD_IDS = ["0", "-1", str(2**31), str(2**63), str(2**64), "1" * 30, HUGE[:5_000], "abc", "١٢", "²", "1.5"]
BAD_NUMBERS = [
    "0", "-1", str(2**63), str(10**30), HUGE[:5_000], "abc", "١٢", "²", "1e9", "", " ", "\x00", MARK,
]
LONE_SURROGATE = "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")
BAD_TEXTS = ["\x00", "a\x00b", "x" * 100_000, MARK, LONE_SURROGATE]
BAD_DATES = [
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-13-45T99:99:99", "not a date",
    "2026-12-03T10:00:00+99:00", "2026-12-03T10:00:00[Mars/Olympus]", "0000-00-00 00:00:00", "\x00", MARK,
]


def check(response, *, sent: str = "") -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if "html" in response.get("Content-Type", "") and MARK in sent:
        assert MARK.encode() not in response.content
