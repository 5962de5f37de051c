"""Whether this run's clock is libfaketime's, whose waits a hard-deadline test cannot rely on.

libfaketime before 0.9.11 (Debian 12 has 0.9.10) fakes the monotonic clock but not the waits
Python times by it, so there ``Thread.join(timeout)`` lasts as long as the thread.
FAKETIME_DONT_FAKE_MONOTONIC=1 mends those waits but makes ``time.sleep`` fail with EINVAL on
Python 3.11 and later (libfaketime issue #426), in the test servers and in Odoo. The hard-deadline
tests skip under it (with this reason); every other test runs.
"""

import os

import pytest

MONOTONIC_FAKED = "faketime" in os.environ.get("LD_PRELOAD", "") and not os.environ.get(
    "FAKETIME_DONT_FAKE_MONOTONIC"
)

skip_when_waits_are_faked = pytest.mark.skipif(
    MONOTONIC_FAKED, reason="libfaketime: Thread.join(timeout) waits for the thread"
)
