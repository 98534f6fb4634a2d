import PressroomQueue

/// The lifecycle's atomic steps. Every key is in KEYS, all in the
/// `{ns:lifecycle}` slot; nothing builds a key name from ARGV or from data.
enum LifecycleScripts {
    /// A derive or render is about to write outputs of an upload.
    /// KEYS: tombstone, content tombstone, record, writers, content, jobs, [customer].
    /// ARGV: upload key, sha256, lease token, lease expiry ms, now ms, source bytes,
    /// shop, customer, "<queue> <job id>".
    /// Returns {'ok'}, {'erased', tombstone}, {'content-busy'} or {'changed', old sha}.
    static let beginWrite = RedisScript(name: "lifecycle-begin-write", source: """
        local t = redis.call('GET', KEYS[1])
        if t then return {'erased', t} end
        if redis.call('EXISTS', KEYS[2]) == 1 then return {'content-busy'} end
        local sha = redis.call('HGET', KEYS[3], 'sha256')
        if sha and sha ~= ARGV[2] then return {'changed', sha} end
        redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[5])
        redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
        redis.call('HSETNX', KEYS[3], 'created_at', ARGV[5])
        redis.call('HSET', KEYS[3], 'sha256', ARGV[2], 'bytes', ARGV[6])
        if ARGV[7] ~= '' then redis.call('HSET', KEYS[3], 'shop', ARGV[7]) end
        if ARGV[8] ~= '' then redis.call('HSET', KEYS[3], 'customer', ARGV[8]) end
        redis.call('SADD', KEYS[5], ARGV[1])
        redis.call('SADD', KEYS[6], ARGV[9])
        if KEYS[7] then redis.call('SADD', KEYS[7], ARGV[1]) end
        return {'ok'}
        """)

    /// The upload's bytes changed under the same key: moves it from the old
    /// content's set to nothing (beginWrite then adds the new one).
    /// KEYS: record, old content. ARGV: upload key, old sha.
    static let forgetContent = RedisScript(name: "lifecycle-forget-content", source: """
        if redis.call('HGET', KEYS[1], 'sha256') == ARGV[2] then
            redis.call('SREM', KEYS[2], ARGV[1])
            redis.call('HDEL', KEYS[1], 'sha256')
        end
        return 1
        """)

    /// Names the objects a writer will create, before it creates them, so an
    /// erase knows them even if the writer dies right after writing.
    /// KEYS: tombstone, writers, outputs. ARGV: token, lease expiry ms, keys...
    /// Returns 'ok' or 'erased'.
    static let registerOutputs = RedisScript(name: "lifecycle-register-outputs", source: """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 'erased' end
        redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[1])
        for i = 3, #ARGV do redis.call('SADD', KEYS[3], ARGV[i]) end
        return 'ok'
        """)

    /// A writer is done. KEYS: tombstone, writers, record. ARGV: token,
    /// bytes written, stamp field ('derived_at' or ''), now ms.
    /// Returns 'erased' when the upload was erased meanwhile: the writer
    /// must delete what it wrote (the erase may have run before the write landed).
    static let finishWrite = RedisScript(name: "lifecycle-finish-write", source: """
        redis.call('ZREM', KEYS[2], ARGV[1])
        if redis.call('EXISTS', KEYS[1]) == 1 then return 'erased' end
        if redis.call('EXISTS', KEYS[3]) == 1 then
            redis.call('HINCRBY', KEYS[3], 'bytes_written', ARGV[2])
            if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], ARGV[4]) end
        end
        return 'ok'
        """)

    /// Starts deleting an upload. KEYS: tombstone, record, writers, content,
    /// content tombstone, outputs, jobs, sweep claim.
    /// ARGV: upload key, sha256 ('' unknown), tombstone JSON, now ms, tombstone
    /// ttl ms, content lease ms, mode ('erase' or 'sweep'), sweep claim ms, owner.
    /// A sweep leaves uploads with writes in flight, or claimed by another
    /// sweeper (or already swept: the claim then says `done`), alone
    /// ({'busy', n} / {'claimed'}). Otherwise sets the
    /// tombstone and returns {'ok', writers in flight, other uploads with the
    /// same content, outputs, jobs, record fields}.
    static let beginErase = RedisScript(name: "lifecycle-begin-erase", source: """
        local now = tonumber(ARGV[4])
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
        local writers = redis.call('ZCARD', KEYS[3])
        if ARGV[7] == 'sweep' then
            if writers > 0 then return {'busy', writers} end
            local claim = redis.call('GET', KEYS[8])
            if claim and claim ~= ARGV[9] then return {'claimed'} end
            redis.call('SET', KEYS[8], ARGV[9], 'PX', ARGV[8])
        end
        if redis.call('EXISTS', KEYS[1]) == 0 then
            redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[5])
        end
        local shared = 0
        if ARGV[2] ~= '' then
            redis.call('SREM', KEYS[4], ARGV[1])
            shared = redis.call('SCARD', KEYS[4])
            if shared == 0 then redis.call('SET', KEYS[5], ARGV[1], 'PX', ARGV[6]) end
        end
        return {'ok', writers, shared, redis.call('SMEMBERS', KEYS[6]), redis.call('SMEMBERS', KEYS[7]), redis.call('HGETALL', KEYS[2])}
        """)

    /// Ends an erase of one upload: forgets its records and adds what was
    /// deleted to the job's progress. The sweep claim stays (as `done`, for
    /// the tombstone's lifetime), so a sweep that listed the upload before it
    /// went never counts it a second time. KEYS: record, outputs, jobs,
    /// writers, content tombstone, progress, sweep claim, [customer].
    /// ARGV: upload key, claim ttl ms, then field/count pairs.
    static let finishErase = RedisScript(name: "lifecycle-finish-erase", source: """
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
        redis.call('SET', KEYS[7], 'done', 'PX', ARGV[2])
        if redis.call('ZCARD', KEYS[4]) == 0 then redis.call('DEL', KEYS[4]) end
        if redis.call('GET', KEYS[5]) == ARGV[1] then redis.call('DEL', KEYS[5]) end
        if KEYS[8] then redis.call('SREM', KEYS[8], ARGV[1]) end
        for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[6], ARGV[i], ARGV[i + 1]) end
        redis.call('PEXPIRE', KEYS[6], 604800000)
        return 1
        """)

    /// Publishes a job's audit entry once, with its accumulated counts.
    /// KEYS: audit stream, audit-done marker, progress. ARGV: max length, job id, now ms,
    /// then extra field/value pairs. Returns the counts.
    static let audit = RedisScript(name: "lifecycle-audit", source: """
        local counts = redis.call('HGETALL', KEYS[3])
        if redis.call('SET', KEYS[2], '1', 'NX', 'PX', 604800000) then
            local fields = {'event', 'erased', 'job', ARGV[2], 'at', ARGV[3]}
            for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
            for i = 1, #counts do fields[#fields + 1] = counts[i] end
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
        end
        return counts
        """)
}
