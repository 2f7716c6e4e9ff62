"""What both run backends share: the protocol and its rules (`interface`), the admission rule
(`admission`), event JSON and SSE framing (`events`), the `Scheduler` every worker process runs
(`scheduler`), the hung-step rule (`watchdog`) and the forkserver preload that starts those
processes (`worker_preload`). Imports no backend."""
