"""The Redis layout both sides of the Redis backend share: key names and the Lua scripts that
change a run's state. Every state change is one script, so it is atomic across any number of web
replicas and workers (Redis runs one script at a time).

Keys, under the prefix `p` (setting `redis_prefix`):
  p:run:<id>            hash: demo, params (JSON), client, token, status, step, events (count),
                        summary (JSON), created, finished, worker, order, budget (JSON: the
                        run's limits, stamped at admission, interface.Budget), counted (JSON:
                        the names it counts under in p:clients while active)
  p:run:<id>:events     stream of the run's events, entry id `<n>-0` for event n: fields `type`
                        and `sse` (the encoded frame), so `Last-Event-ID: n` is `XREAD ... n-0`
  p:run:<id>:creator    stream of the frames for the run's creator alone (Demo.creator_only): entry
                        `<n>-0` when event n holds more for them (its public entry has `creator`);
                        deleted when the run ends
  p:run:<id>:watched    set with a TTL of idle_cancel_seconds by whoever follows the run
  p:dispatch            stream of admitted runs (`run` field), consumer group `workers`
  p:queued              sorted set: runs admitted and not yet claimed, by admission order
  p:active              set: every queued, running or paused run (the admission count)
  p:clients             hash: a name runs count under (core.admission: a seat's holder or its
                        class) -> its active runs
  p:finished            sorted set: finished runs by end time (retention keeps `keep_runs`)
  p:kept:<client>       sorted set: one client's finished runs by end time (keeps `keep_runs_per_client`)
  p:workers             hash: worker id -> JSON {device, capacity, host, pid}
  p:capacity            hash: worker id -> runs it holds at once
  p:worker:<w>:alive    heartbeat, expires after three silent periods
  p:worker:<w>:runs     set: the runs the worker has claimed and not ended
  p:worker:<w>:control  stream of live changes and stops for the worker's runs (group `workers`)
  p:ack:<nonce>         list: the worker's answer to one PATCH (step it applies from), short TTL
  p:replica:<r>:wake    stream (one entry kept): wakes replica r's blocking read of the followed
                        event streams when a stream joins it; deleted when the replica stops

These scripts name keys built from the prefix (a run's keys are known only inside the script), so
they need one Redis server (with replicas or Sentinel for failover), not Redis Cluster.
"""

from __future__ import annotations

from typing import cast

from redis.typing import EncodableT, KeyT, StreamIdT

from app.playground.core.interface import ACTIVE

GROUP = "workers"
DISPATCH_MAXLEN = 100_000  # approximate: acknowledged entries are history only

# Every client here is made with decode_responses=True (and the default RESP2), so each reply is
# text; redis-py's types say `bytes | str` for any client. The names below say what a reply is.
ScriptArgs = list[EncodableT]
"""A script's ARGV, as redis-py takes it."""
StreamReads = dict[KeyT, StreamIdT]
"""XREAD's streams: key -> the entry id to read after (or `$`, `>`)."""
StreamEntry = tuple[str, dict[str, str]]
"""(entry id, fields), as XRANGE and XREAD answer each entry."""


def stream_entries(answer: object) -> list[StreamEntry]:
    """XRANGE's answer."""
    return cast(list[StreamEntry], answer)


def hash_fields(answer: object) -> dict[str, str]:
    """HGETALL's answer."""
    return cast(dict[str, str], answer)


def members(answer: object) -> set[str]:
    """SMEMBERS' answer."""
    return cast(set[str], answer)


def stream_batches(answer: object) -> list[tuple[str, list[StreamEntry]]]:
    """XREAD's or XREADGROUP's answer as [stream key, its new entries] per stream with news
    (an empty list when the read timed out: redis-py answers None then)."""
    return cast(list[tuple[str, list[StreamEntry]]], answer or [])


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.dispatch = f"{prefix}:dispatch"
        self.queued = f"{prefix}:queued"
        self.active = f"{prefix}:active"
        self.clients = f"{prefix}:clients"
        self.finished = f"{prefix}:finished"
        self.workers = f"{prefix}:workers"
        self.capacity = f"{prefix}:capacity"

    def run(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def events(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:events"

    def creator(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:creator"

    def watched(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}:watched"

    def alive(self, worker: str) -> str:
        return f"{self.prefix}:worker:{worker}:alive"

    def worker_runs(self, worker: str) -> str:
        return f"{self.prefix}:worker:{worker}:runs"

    def control(self, worker: str) -> str:
        return f"{self.prefix}:worker:{worker}:control"

    def ack(self, nonce: str) -> str:
        return f"{self.prefix}:ack:{nonce}"

    def wake(self, replica: str) -> str:
        return f"{self.prefix}:replica:{replica}:wake"


# ARGV[1] is always the prefix; the helpers below come first in every script.
PRELUDE = (
    """
local prefix = ARGV[1]
local function run_key(id) return prefix .. ':run:' .. id end
local function events_key(id) return prefix .. ':run:' .. id .. ':events' end
local function is_active(status) return """
    + " or ".join(f"status == '{status}'" for status in ACTIVE)
    + """ end

local function sse(n, kind, data) return 'id: ' .. n .. '\\nevent: ' .. kind .. '\\ndata: ' .. data .. '\\n\\n' end

-- One event, numbered from the run's own counter: writers on many hosts never collide.
-- creator_data: the event as the run's creator alone may read it, or nil when it is the same.
local function append(id, kind, data, creator_data)
  local n = redis.call('HINCRBY', run_key(id), 'events', 1)
  if creator_data then
    redis.call('XADD', run_key(id) .. ':creator', n .. '-0', 'sse', sse(n, kind, creator_data))
    redis.call('XADD', events_key(id), n .. '-0', 'type', kind, 'sse', sse(n, kind, data), 'creator', 1)
  else
    redis.call('XADD', events_key(id), n .. '-0', 'type', kind, 'sse', sse(n, kind, data))
  end
  return n
end

-- A finished run's keys gone, and its place in the retention sets.
local function forget(old)
  local owner = redis.call('HGET', run_key(old), 'client')
  if owner then redis.call('ZREM', prefix .. ':kept:' .. owner, old) end
  redis.call('ZREM', prefix .. ':finished', old)
  redis.call('DEL', run_key(old), events_key(old))
end

-- End a run: the end event, its admission slot freed, the oldest finished runs past `keep` gone,
-- and its client's own oldest past `keep_per_client` (one client cannot push out everyone's).
local function finish(id, status, end_data, summary, now, keep, keep_per_client)
  local key = run_key(id)
  if not is_active(redis.call('HGET', key, 'status')) then return 0 end
  append(id, 'end', end_data)
  redis.call('HSET', key, 'status', status, 'summary', summary, 'finished', now)
  redis.call('HDEL', key, 'withheld')
  redis.call('DEL', key .. ':creator')
  redis.call('SREM', prefix .. ':active', id)
  redis.call('ZREM', prefix .. ':queued', id)
  local counted = redis.call('HGET', key, 'counted')
  local names = counted and cjson.decode(counted) or {}
  if not counted then -- admitted before `counted` was written: it counted under its client and class
    for _, name in ipairs(redis.call('HMGET', key, 'client', 'group')) do
      if name and name ~= '' then table.insert(names, name) end
    end
  end
  for _, name in ipairs(names) do
    if redis.call('HINCRBY', prefix .. ':clients', name, -1) <= 0 then
      redis.call('HDEL', prefix .. ':clients', name)
    end
  end
  local worker = redis.call('HGET', key, 'worker')
  if worker then redis.call('SREM', prefix .. ':worker:' .. worker .. ':runs', id) end
  redis.call('DEL', key .. ':watched')
  redis.call('ZADD', prefix .. ':finished', now, id)
  local mine = prefix .. ':kept:' .. (redis.call('HGET', key, 'client') or '')
  redis.call('ZADD', mine, now, id)
  for _, kept in ipairs({{mine, keep_per_client}, {prefix .. ':finished', keep}}) do
    local excess = redis.call('ZCARD', kept[1]) - kept[2]
    if excess > 0 then
      for _, old in ipairs(redis.call('ZRANGE', kept[1], 0, excess - 1)) do forget(old) end
    end
  end
  return 1
end
"""
)

# ARGV: prefix, id, idle_ms, dispatch maxlen, the quotas (JSON, core.admission.quotas_json), then
# the run hash's field/value pairs. The rule is not here: the quotas come in the order they refuse
# (core.admission.quotas), and this checks each against what it counts, atomically across replicas:
# the active runs counted under its `counter` in p:clients, or every active run when it has none;
# a `beyond_capacity` limit adds the capacity of the live workers, read here so that no replica
# admits on a stale view. An admitted run is counted under every quota's counter.
# Returns {'ok', queue position, capacity} or {'refused', the refusing quota's number from 1, capacity}.
ADMIT = """
local id, idle_ms, quotas = ARGV[2], ARGV[3], cjson.decode(ARGV[5])
local capacity = 0
local slots = redis.call('HGETALL', prefix .. ':capacity')
for i = 1, #slots, 2 do
  if redis.call('EXISTS', prefix .. ':worker:' .. slots[i] .. ':alive') == 1 then
    capacity = capacity + tonumber(slots[i + 1])
  end
end
local counters = {}
for number, quota in ipairs(quotas) do
  local held
  if quota.counter then
    held = tonumber(redis.call('HGET', prefix .. ':clients', quota.counter)) or 0
    table.insert(counters, quota.counter)
  else
    held = redis.call('SCARD', prefix .. ':active')
  end
  local limit = quota.limit + (quota.beyond_capacity and capacity or 0)
  if held >= limit then return {'refused', number, capacity} end
end
local key = run_key(id)
redis.call('HSET', key, 'counted', cjson.encode(counters), unpack(ARGV, 6))
local order = redis.call('INCR', prefix .. ':order')
redis.call('HSET', key, 'status', 'queued', 'step', 0, 'events', 0, 'order', order)
redis.call('SADD', prefix .. ':active', id)
for _, counter in ipairs(counters) do redis.call('HINCRBY', prefix .. ':clients', counter, 1) end
redis.call('ZADD', prefix .. ':queued', order, id)
redis.call('SET', key .. ':watched', 1, 'PX', idle_ms)
redis.call('XADD', prefix .. ':dispatch', 'MAXLEN', '~', ARGV[4], '*', 'run', id)
return {'ok', redis.call('ZRANK', prefix .. ':queued', id) + 1, capacity}
"""

# ARGV: prefix, id, worker, now. The one place a run changes hands: a run is claimed at most once.
# Returns {demo, params, withheld, budget} or false (cancelled or ended before a worker got to it).
CLAIM = """
local id, worker = ARGV[2], ARGV[3]
local key = run_key(id)
if redis.call('HGET', key, 'status') ~= 'queued' then return false end
redis.call('HSET', key, 'status', 'running', 'worker', worker, 'started', ARGV[4])
redis.call('ZREM', prefix .. ':queued', id)
redis.call('SADD', prefix .. ':worker:' .. worker .. ':runs', id)
local claimed = redis.call('HMGET', key, 'demo', 'params', 'withheld', 'budget')
redis.call('HDEL', key, 'withheld')
return claimed
"""

# ARGV: prefix, entry id, run id, dispatch maxlen, group. A dispatch entry read but never claimed
# (its worker died or is leaving): its run goes back in the queue if it is still queued, and the
# entry is acknowledged, in one step, so the run is never in neither place nor queued twice.
REQUEUE = """
local id = ARGV[3]
if redis.call('HGET', run_key(id), 'status') == 'queued' then
  redis.call('XADD', prefix .. ':dispatch', 'MAXLEN', '~', ARGV[4], '*', 'run', id)
end
return redis.call('XACK', prefix .. ':dispatch', ARGV[5], ARGV[2])
"""

# ARGV: prefix, id, kind, data, the creator's data ('' when the same), then hash field/value pairs
# to set with it (step, params, status). Returns the event's id, or 0 once the run has ended.
EMIT = """
local id = ARGV[2]
if not is_active(redis.call('HGET', run_key(id), 'status')) then return 0 end
local n = append(id, ARGV[3], ARGV[4], ARGV[5] ~= '' and ARGV[5] or nil)
if #ARGV > 5 then redis.call('HSET', run_key(id), unpack(ARGV, 6)) end
return n
"""

# ARGV: prefix, id, status, end_data, summary, now, keep, keep_per_client. Returns 1 if this call ended the run.
FINISH = """
return finish(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]))
"""

# ARGV: prefix, id, changes, params_read, params_new, event_data, nonce.
# A queued run takes the change itself (compare-and-set on the params this replica read); a
# training one gets it through its worker's control stream. Returns 'queued', 'sent', 'retry'
# (the params changed meanwhile) or 'finished'.
CHANGE = """
local id = ARGV[2]
local key = run_key(id)
local status = redis.call('HGET', key, 'status')
if status == 'queued' then
  if redis.call('HGET', key, 'params') ~= ARGV[4] then return 'retry' end
  redis.call('HSET', key, 'params', ARGV[5])
  append(id, 'control', ARGV[6])
  return 'queued'
end
if not is_active(status) then return 'finished' end
local worker = redis.call('HGET', key, 'worker')
redis.call('XADD', prefix .. ':worker:' .. worker .. ':control', '*', 'run', id, 'changes', ARGV[3], 'ack', ARGV[7])
return 'sent'
"""

# ARGV: prefix, id, end_data, now, keep, keep_per_client. A queued run ends here; a training one is told to stop.
# Returns 'ended', 'sent' or 'finished'.
CANCEL = """
local id = ARGV[2]
local key = run_key(id)
local status = redis.call('HGET', key, 'status')
if status == 'queued' then
  finish(id, 'cancelled', ARGV[3], '{}', ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]))
  return 'ended'
end
if not is_active(status) then return 'finished' end
local worker = redis.call('HGET', key, 'worker')
redis.call('XADD', prefix .. ':worker:' .. worker .. ':control', '*', 'run', id, 'stop', 'cancelled')
return 'sent'
"""

SCRIPTS = {
    name: PRELUDE + body
    for name, body in {
        "admit": ADMIT,
        "claim": CLAIM,
        "requeue": REQUEUE,
        "emit": EMIT,
        "finish": FINISH,
        "change": CHANGE,
        "cancel": CANCEL,
    }.items()
}
