import PressroomQueue

/// Lua for order records. Every key is passed in KEYS (one hash slot).
enum OrderScripts {
    /// A chain of compare-and-set transitions of one order, applied in order
    /// until one does not apply: a new order is created, routed and given its
    /// first intent in one call (one round trip, one atomic step) instead of three.
    ///
    /// KEYS: order, timeline, events, refs, jobs, then one index key per state
    /// (in the order of the ARGV state table).
    /// ARGV: the number of transitions; the state table, once for the chain:
    /// N, then N × 'state:rank:terminal'; then per transition its argument
    /// count and its arguments: now, order id, target state ('' = update fields
    /// only), expected ('-' = create if missing, '' = any, else a comma list of
    /// states), expected version ('' = any), queue name, events maxlen,
    /// timeline JSON ('' = none), then counted groups: fields to set (pairs),
    /// fields to delete, refs to set (pairs), extra event fields (pairs), job
    /// entry fields to XADD (pairs, 0 = none), and last an optional '1'
    /// (reopen: the target may be lower than the current state or leave a
    /// terminal one; only with explicit expected states).
    /// Returns one {status, state, version, created_at, previous state} per
    /// transition run; status is created, exists, applied, same, stale,
    /// conflict or missing, and the chain stops after the first that is
    /// neither created nor applied.
    ///
    /// Each step reads the record once and writes it with one HSET, and
    /// knows what it wrote without reading it back: two transitions of every
    /// ticket run here, and Redis' time went to the calls each made (some
    /// 2-3 µs apiece beside the command's own work), not to what they decided.
    static let transitions = RedisScript(name: "order-transitions", source: #"""
        local rank, terminal, index = {}, {}, {}
        local n = tonumber(ARGV[2])
        for i = 1, n do
            local spec = ARGV[2 + i]
            local a = string.find(spec, ':', 1, true)
            local b = string.find(spec, ':', a + 1, true)
            local name = string.sub(spec, 1, a - 1)
            rank[name] = tonumber(string.sub(spec, a + 1, b - 1))
            terminal[name] = string.sub(spec, b + 1) == '1'
            index[name] = KEYS[5 + i]
        end

        local function step(ARGV)
        local now, id, target, expected, expectedVersion = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local queue, maxlen, timeline = ARGV[6], ARGV[7], ARGV[8]
        local pos = 9
        local function group(pairs)
            local count = tonumber(ARGV[pos])
            local values = {}
            local width = pairs and 2 or 1
            for i = 1, count * width do values[i] = ARGV[pos + i] end
            pos = pos + count * width + 1
            return values
        end
        local sets, dels, refs, extra, job = group(true), group(false), group(true), group(true), group(true)
        local reopen = ARGV[pos] == '1' and expected ~= '' and expected ~= '-'
        -- The record's fields, then the caller's: one HSET, in which a later field wins.
        -- What it leaves in state, version and created_at is known without reading it back.
        local written = {}
        local function write(fields)
            for i = 1, #sets do fields[#fields + 1] = sets[i] end
            for i = 1, #fields, 2 do
                local name = fields[i]
                if name == 'state' or name == 'version' or name == 'created_at' then written[name] = tostring(fields[i + 1]) end
            end
            redis.call('HSET', KEYS[1], unpack(fields))
        end

        local record = redis.call('HMGET', KEYS[1], 'state', 'version', 'created_at')
        local current = record[1]
        if not current then
            if expected ~= '-' then return {'missing', '', '0', '0', ''} end
            if not rank[target] then return redis.error_reply('unknown state ' .. target) end
            write({'id', id, 'state', target, 'version', 1, 'created_at', now, 'updated_at', now, 'state_at:' .. target, now})
            redis.call('ZADD', index[target], now, id)
        else
            local version, createdAt = record[2] or '0', record[3] or '0'
            if expected == '-' then return {'exists', current, version, createdAt, current} end
            if expectedVersion ~= '' and expectedVersion ~= version then
                return {'conflict', current, version, createdAt, current}
            end
            if expected ~= '' then
                local ok = false
                for s in string.gmatch(expected, '[^,]+') do if s == current then ok = true end end
                if not ok then return {'conflict', current, version, createdAt, current} end
            end
            local fields = {'version', (tonumber(version) or 0) + 1, 'updated_at', now}
            if target ~= '' then
                if not rank[target] then return redis.error_reply('unknown state ' .. target) end
                if target == current then
                    return {'same', current, version, createdAt, current}
                end
                if not reopen and (terminal[current] or (rank[current] or 0) > rank[target]) then
                    redis.call('HINCRBY', KEYS[1], 'ignored_transitions', 1)
                    redis.call('HSET', KEYS[1], 'last_ignored', target .. '@' .. now)
                    return {'stale', current, version, createdAt, current}
                end
                fields[#fields + 1] = 'state'
                fields[#fields + 1] = target
                fields[#fields + 1] = 'state_at:' .. target
                fields[#fields + 1] = now
                if index[current] then redis.call('ZREM', index[current], id) end
                redis.call('ZADD', index[target], now, id)
            end
            write(fields)
            if #dels > 0 then redis.call('HDEL', KEYS[1], unpack(dels)) end
        end
        if #refs > 0 then redis.call('HSET', KEYS[4], unpack(refs)) end
        if timeline ~= '' then redis.call('RPUSH', KEYS[2], timeline) end
        local meta = {written.state or current, written.version or record[2] or '0', written.created_at or record[3] or '0'}
        local state = meta[1]
        local previous = current or ''
        if state ~= previous then
            redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', 'event', 'order.' .. state, 'id', id, 'type', 'order',
                'queue', queue, 'at', now, 'state', state, 'from', previous, 'version', meta[2], 'created_at', meta[3], unpack(extra))
        end
        if #job > 0 then redis.call('XADD', KEYS[5], '*', unpack(job)) end
        return {current and 'applied' or 'created', state, meta[2], meta[3], previous}
        end

        local results, pos = {}, 3 + n
        for i = 1, tonumber(ARGV[1]) do
            local count = tonumber(ARGV[pos])
            local result = step({unpack(ARGV, pos + 1, pos + count)})
            if result.err then return result end
            results[i] = result
            pos = pos + count + 1
            if result[1] ~= 'created' and result[1] ~= 'applied' then break end
        end
        return results
        """#)
}
