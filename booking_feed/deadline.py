"""Calls to servers we do not control, bounded by a deadline they cannot stretch.

``requests``' timeout bounds each socket read, not the whole exchange: a
server that trickles a byte every few seconds keeps a caller for as long as
it likes. The call runs in a daemon thread the caller stops waiting for, so
only that thread is kept (it ends with its socket's next timeout).
"""

import threading


def call_within(seconds: float, function):
    """``(True, function())``, or ``(False, None)`` when it did not return within ``seconds``.

    ``function`` must not raise (catch inside it: a thread's exception would be lost).
    """
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(function()), daemon=True)
    worker.start()
    worker.join(max(seconds, 0))
    return (True, outcome[0]) if outcome else (False, None)
