"""The playground's HTTP surface: routes, the embed page, the script download, the panel's
controls. Speaks the protocol of `app.playground.core`, never a backend."""
