"""Any bytes in: a ParsedMessage or a clear UnparseableMessage out, in bounded time, and the
guard, the features and the rules take whatever the parser gives them."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.features import dense_features, normalise
from classifiers.rules import critical_hits
from worker.mail.guard import automated_reason
from worker.mail.parse import ParsedMessage, UnparseableMessage, parse_message

HEADER_NAMES = ["From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "Precedence", "List-Id"]
header_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
bodies = st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(lambda t: t.encode("utf-8", "replace")))


@st.composite
def emails(draw) -> bytes:
    """Mostly mail-shaped bytes, so the fuzzer reaches past the first header line."""
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_values), max_size=12))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers).encode("utf-8", "surrogateescape")
    return head + draw(st.sampled_from([b"\r\n", b"\n", b""])) + draw(bodies)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.one_of(emails(), st.binary(max_size=4000)))
def test_any_bytes_parse_or_fail_clearly_and_feed_every_stage(raw):
    started = time.perf_counter()
    try:
        msg = parse_message(raw)
    except UnparseableMessage:
        return
    assert isinstance(msg, ParsedMessage)
    automated_reason(msg, ("support@example.com",), 3, 10)
    text = f"{msg.subject}\n{msg.new_text}"
    normalise(text)
    dense_features([text])
    critical_hits(text)
    assert time.perf_counter() - started < 2
