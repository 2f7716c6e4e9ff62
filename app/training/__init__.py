"""The demos' training code: one PyTorch module per demo (`app/training/<name>.py`, its `train`
named by the demo's declaration in app/demos). Imported only in the processes that train, and
carried whole in a run's downloaded script; the web process never imports it (lint checks)."""
