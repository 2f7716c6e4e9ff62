"""The Redis backend: stateless web replicas (`engine`) and `modelterms worker` processes
(`worker`) on any host, meeting in Redis (`schema`: the keys and the Lua of each state change).
Inside this package `import redis` is the redis-py library (imports are absolute)."""
