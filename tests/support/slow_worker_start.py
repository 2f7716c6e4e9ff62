"""Named in `extra_demo_modules`, it holds each worker process's start for START_DELAY_SECONDS
(the web process imports it too, without waiting): a test sees a server whose workers are still
starting however fast the machine is. It defines no demo."""

from __future__ import annotations

import multiprocessing
import time

START_DELAY_SECONDS = 3.0

if multiprocessing.parent_process() is not None:  # a worker, started by the engine
    time.sleep(START_DELAY_SECONDS)
