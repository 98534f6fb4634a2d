/// The Lua scripts behind every multi-step state change. Each runs atomically
/// in Redis, so a crash between two steps can never lose or duplicate a job.
/// All keys of one queue share a hash tag, so they also run on Redis Cluster.
enum QueueScripts {
    /// Admits one entry with an ownership check, for the rare paths: an entry
    /// whose batch admission failed, and an entry that came back with a
    /// running marker naming it (a takeover, or a restart replay).
    /// KEYS: stream, job state. ARGV: group, entry id, consumer, this
    /// consumer's marker for the entry, the marker's ending that names the
    /// entry, lease ms. Takes the state key when the entry is pending to this
    /// consumer and the key is absent, ours, or a running marker for the same
    /// entry; returns {"run"}. Returns {"elsewhere"} when the entry is not
    /// pending to this consumer (another one took it over), else
    /// {"state", current} (a finished record, or a duplicate running).
    static let admitOne = RedisScript(name: "admit-one", source: """
        local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
        if not p[1] or p[1][2] ~= ARGV[3] then return {'elsewhere'} end
        local current = redis.call('GET', KEYS[2])
        local running = current and string.sub(current, 1, 19) == '{"status":"running"'
        if not current or current == ARGV[4] or (running and string.sub(current, -#ARGV[5]) == ARGV[5]) then
            redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[6])
            return {'run'}
        end
        return {'state', current}
        """)

    /// Schedules a retry. KEYS: stream, delayed, job state, events, and
    /// optionally the failure counter of this minute (``ThroughputCounters``).
    /// ARGV: group, entry id, due ms, member, events maxlen, running marker,
    /// event field pairs... The state key is dropped only while it still says
    /// this consumer runs the job (never a finished job's record).
    /// Only the consumer whose XACK succeeds schedules it, so a job that two
    /// consumers both finished is never retried twice.
    static let retry = RedisScript(name: "retry", source: """
        local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        if acked == 0 and redis.call('ZSCORE', KEYS[2], ARGV[4]) then
            -- Run again after its reply was lost: the retry is already scheduled.
            acked = 1
        elseif acked == 1 then
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
            if KEYS[5] then
                redis.call('INCR', KEYS[5])
                redis.call('EXPIRE', KEYS[5], 7200)
            end
            if tonumber(ARGV[5]) > 0 then
                redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', unpack(ARGV, 7))
            end
        end
        if redis.call('GET', KEYS[3]) == ARGV[6] then redis.call('DEL', KEYS[3]) end
        return acked
        """)

    /// Dead-letters an entry. KEYS: stream, dead, job state, events, and
    /// optionally the failure counter of this minute (``ThroughputCounters``).
    /// ARGV: group, entry id, require ack (1/0), events maxlen, running marker,
    /// dead field count, dead field pairs..., event field pairs...
    /// ACK and XADD happen together or not at all: never lost, never duplicated.
    static let deadLetter = RedisScript(name: "dead-letter", source: """
        local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        local function release()
            if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
        end
        if acked == 0 and ARGV[3] == '1' then
            release()
            return 0
        end
        local n = tonumber(ARGV[6])
        redis.call('XADD', KEYS[2], '*', unpack(ARGV, 7, 6 + n))
        if KEYS[5] then
            redis.call('INCR', KEYS[5])
            redis.call('EXPIRE', KEYS[5], 7200)
        end
        if tonumber(ARGV[4]) > 0 and #ARGV > 6 + n then
            redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, 7 + n))
        end
        release()
        return 1
        """)

    /// Moves due retries back onto the stream. KEYS: delayed, stream. ARGV: now ms, limit.
    /// Members are JSON arrays of field pairs. Safe with many processes: ZREM
    /// happens in the same script as the XADD.
    static let moveDue = RedisScript(name: "move-due", source: """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, member in ipairs(due) do
            local ok, fields = pcall(cjson.decode, member)
            if ok and type(fields) == 'table' and #fields >= 2 then
                redis.call('XADD', KEYS[2], '*', unpack(fields))
            end
            redis.call('ZREM', KEYS[1], member)
        end
        return #due
        """)

    /// Takes over entries of dead consumers and dead-letters poison ones.
    /// KEYS: stream, dead, events. ARGV: group, consumer, min idle ms, cursor,
    /// count, max deliveries, now ms, events maxlen.
    /// Returns {next cursor, {{id, fields, deliveries}...}, poisoned, trimmed}.
    static let reclaim = RedisScript(name: "reclaim", source: """
        local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
        local maxDeliveries = tonumber(ARGV[6])
        local out, poisoned, trimmed = {}, 0, 0
        local function event(jobId, jobType, reason)
            if tonumber(ARGV[8]) > 0 then
                redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'event', 'dead_lettered',
                    'id', jobId, 'type', jobType, 'error_class', 'permanent', 'error', reason, 'at', ARGV[7])
            end
        end
        for _, e in ipairs(r[2]) do
            local id, fields = e[1], e[2]
            if type(fields) ~= 'table' then
                trimmed = trimmed + 1
                redis.call('XACK', KEYS[1], ARGV[1], id)
                redis.call('XADD', KEYS[2], '*', 'original_id', id, 'dead_reason', 'trimmed: the entry was deleted from the stream before it was acknowledged',
                    'dead_error_class', 'permanent', 'dead_at', ARGV[7], 'consumer', ARGV[2])
            else
                local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
                local deliveries = (p[1] and p[1][4]) or 1
                if deliveries > maxDeliveries then
                    poisoned = poisoned + 1
                    redis.call('XACK', KEYS[1], ARGV[1], id)
                    local jobId, jobType = '', ''
                    local dead = {}
                    for i = 1, #fields, 2 do
                        dead[#dead + 1] = fields[i]
                        dead[#dead + 1] = fields[i + 1]
                        if fields[i] == 'id' then jobId = fields[i + 1] end
                        if fields[i] == 'type' then jobType = fields[i + 1] end
                    end
                    local reason = 'poison: delivered ' .. deliveries .. ' times without completing (limit ' .. maxDeliveries .. '); the worker died or hung on it every time'
                    for _, v in ipairs({'original_id', id, 'dead_reason', reason, 'dead_error_class', 'permanent',
                            'dead_at', ARGV[7], 'consumer', ARGV[2], 'deliveries', tostring(deliveries)}) do
                        dead[#dead + 1] = v
                    end
                    redis.call('XADD', KEYS[2], '*', unpack(dead))
                    event(jobId, jobType, reason)
                else
                    out[#out + 1] = {id, fields, deliveries}
                end
            end
        end
        for _, id in ipairs(r[3] or {}) do
            trimmed = trimmed + 1
            redis.call('XADD', KEYS[2], '*', 'original_id', id, 'dead_reason', 'trimmed: the entry was deleted from the stream before it was acknowledged',
                'dead_error_class', 'permanent', 'dead_at', ARGV[7], 'consumer', ARGV[2])
        end
        return {r[1], out, poisoned, trimmed}
        """)

    /// Keeps in-flight jobs from looking idle, so XAUTOCLAIM never steals a job
    /// from a live consumer, and keeps their state keys saying so.
    /// KEYS: stream, job state keys... ARGV: group, consumer, lease ms, then
    /// per running job its entry id and running marker (same order as the keys).
    /// Returns the entry ids another consumer has taken over.
    static let touch = RedisScript(name: "touch", source: """
        local lost = {}
        for i = 4, #ARGV, 2 do
            local id, marker, key = ARGV[i], ARGV[i + 1], KEYS[(i - 4) / 2 + 2]
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
            if p[1] and p[1][2] == ARGV[2] then
                redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
                local state = redis.call('GET', key)
                if state == marker then
                    redis.call('PEXPIRE', key, ARGV[3])
                elseif not state then
                    redis.call('SET', key, marker, 'PX', ARGV[3])
                end
            elseif p[1] then
                -- Pending to another consumer: taken over. (Not pending at all
                -- means it was just recorded, before its claim was released.)
                lost[#lost + 1] = id
            end
        end
        return lost
        """)

    /// Claims or refreshes a consumer name. KEYS: lock. ARGV: token, ttl ms.
    /// Returns 1 when held by `token`, 0 when another live process holds it.
    static let holdConsumer = RedisScript(name: "hold-consumer", source: """
        local holder = redis.call('GET', KEYS[1])
        if holder == false or holder == ARGV[1] then
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            return 1
        end
        return 0
        """)

    /// Releases a consumer name if still ours. KEYS: lock. ARGV: token.
    static let releaseConsumer = RedisScript(name: "release-consumer", source: """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// Trims acknowledged entries only. KEYS: stream. ARGV: group, mode
    /// ("minid" with a cutoff in ms, or "maxlen" with a length), value, chunk.
    /// The trim point never passes the oldest pending entry nor the group's
    /// last-delivered id, so no unprocessed entry is ever trimmed away.
    static let trim = RedisScript(name: "trim", source: """
        local function parse(id)
            local ms, seq = string.match(id, '^(%d+)-(%d+)$')
            return tonumber(ms), tonumber(seq)
        end
        local function less(a, b)
            local am, as = parse(a)
            local bm, bs = parse(b)
            if am ~= bm then return am < bm end
            return as < bs
        end
        local len = redis.call('XLEN', KEYS[1])
        if len == 0 then return 0 end
        local lastDelivered = nil
        for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
            for i = 1, #g, 2 do
                if g[i] == 'name' and g[i + 1] == ARGV[1] then
                    for j = 1, #g, 2 do
                        if g[j] == 'last-delivered-id' then lastDelivered = g[j + 1] end
                    end
                end
            end
        end
        if not lastDelivered then return 0 end
        local ms, seq = parse(lastDelivered)
        local floor = ms .. '-' .. (seq + 1)
        local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
        if pending[1] > 0 and less(pending[2], floor) then floor = pending[2] end
        local cutoff
        if ARGV[2] == 'minid' then
            cutoff = ARGV[3] .. '-0'
        else
            local excess = len - tonumber(ARGV[3])
            if excess <= 0 then return 0 end
            if excess > tonumber(ARGV[4]) then excess = tonumber(ARGV[4]) end
            local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
            local lm, ls = parse(entries[#entries][1])
            cutoff = lm .. '-' .. (ls + 1)
        end
        if less(floor, cutoff) then cutoff = floor end
        return redis.call('XTRIM', KEYS[1], 'MINID', '~', cutoff)
        """)
}
