"""The suite's shifted clock in every Python process it starts (gunicorn, `flask worker`).

tests/conftest.py may move a run that starts late in the day back to noon (see
`pytest_configure` there) and puts this folder on PYTHONPATH with the shift in
PORTAL_TEST_CLOCK_OFFSET, so a heartbeat or a session written by a child process reads
the same day and hour as the test that checks it.
"""

import os

_offset = os.environ.get("PORTAL_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
