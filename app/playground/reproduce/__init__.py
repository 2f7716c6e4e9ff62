""" "Reproduce locally": one standalone Python file, needing only torch, that trains what a run
trained and prints its points (`bundle` assembles it; `bootstrap` and `runtime` travel inside it)."""
