"""Whether this run's clock is libfaketime's, whose timed waits tests cannot rely on.

libfaketime before 0.9.11 (Debian 12 has 0.9.10) fakes the monotonic clock but not the waits
Python times by it, so there ``Thread.join(timeout)`` or ``queue.get(timeout=…)`` last until
what they wait for happens, or forever. FAKETIME_DONT_FAKE_MONOTONIC=1 mends those waits but
makes ``time.sleep`` fail with EINVAL on Python 3.11 and later (libfaketime issue #426), in the
test servers and in Odoo. The tests that rest on such waits skip under it, with this reason;
every other test runs. Only the standard library here: Odoo's own runner imports it too.
"""

import os

MONOTONIC_FAKED = "faketime" in os.environ.get("LD_PRELOAD", "") and not os.environ.get(
    "FAKETIME_DONT_FAKE_MONOTONIC"
)
WAITS_FAKED = "libfaketime: timed waits (Thread.join(timeout), queue.get(timeout)) never end"
