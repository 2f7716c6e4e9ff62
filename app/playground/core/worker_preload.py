"""Imported once by the forkserver that forks worker processes (see
app.playground.core.scheduler.process_context), never by the web process: torch, the training code and
the demos, so that every worker forked from it starts with them in memory.

Only imports: a fork copies just the thread that forks, so nothing here may start a thread,
touch a GPU or take a step (an OpenMP pool set up here would hang the children)."""

from app.demos import load_demos
from app.playground.core.scheduler import import_training_code

import_training_code()
load_demos()
