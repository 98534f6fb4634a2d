/// Per-queue settings: one stream, one lane of workers.
public struct QueueOptions: Sendable, Equatable {
    public var name: String
    /// Jobs of this queue running at once in this process.
    public var concurrency: Int
    /// Entries read per XREADGROUP; defaults to the free slots.
    public var batchSize: Int
    /// How long one XREADGROUP blocks; short, so a drain starts promptly.
    public var block: Duration
    /// How long a lane with fewer than a quarter of its slots free (and at least 8 slots) waits
    /// for more to free before it reads: one XREADGROUP then starts many jobs, not one or two.
    /// Freed slots idle up to this long; a lane of fewer than 8 slots reads as soon as one frees.
    public var batchWait: Duration
    /// Idle time after which another consumer takes over an entry (XAUTOCLAIM).
    /// In-flight jobs refresh their idle time at a third of it, so only dead
    /// consumers' entries are ever taken.
    public var claimMinIdle: Duration
    /// Deliveries after which an entry is poison and dead-lettered unrun.
    public var maxDeliveries: Int
    /// How long a finished job id is remembered, so its duplicates are skipped.
    public var completedTTL: Duration
    /// Events stream length (approximate); 0 disables events.
    public var eventsMaxLength: Int
    public var trim: TrimPolicy
    /// Share of concurrent CPU time this lane's jobs are charged with: I/O-bound
    /// lanes (fulfilment) get a low weight so they do not dilute imaging jobs.
    public var cpuWeight: Double
    /// Partitions new jobs go to (``QueuePartitions``); 1 is today's single stream.
    public var partitions: Int
    /// Read partitions up to this count too while the ones beyond
    /// `partitions` drain after a decrease; `nil` reads `partitions` only.
    public var drainPartitions: Int?

    public init(
        name: String,
        concurrency: Int = 4,
        batchSize: Int? = nil,
        block: Duration = .milliseconds(1000),
        batchWait: Duration = .milliseconds(20),
        claimMinIdle: Duration = .seconds(60),
        maxDeliveries: Int = 5,
        completedTTL: Duration = .seconds(7 * 86400),
        eventsMaxLength: Int = 100_000,
        trim: TrimPolicy = .maxLength(100_000),
        cpuWeight: Double = 1,
        partitions: Int = 1,
        drainPartitions: Int? = nil
    ) {
        self.partitions = partitions
        self.drainPartitions = drainPartitions
        self.cpuWeight = cpuWeight
        self.name = name
        self.concurrency = concurrency
        self.batchSize = batchSize ?? concurrency
        self.block = block
        self.batchWait = batchWait
        self.claimMinIdle = claimMinIdle
        self.maxDeliveries = maxDeliveries
        self.completedTTL = completedTTL
        self.eventsMaxLength = eventsMaxLength
        self.trim = trim
    }
}

extension QueueOptions {
    /// Where this queue's partitions live under `namespace`.
    public func partitioning(namespace: String) -> QueuePartitions {
        QueuePartitions(namespace: namespace, queue: name, count: partitions, drainFrom: drainPartitions)
    }
}

/// How a stream is kept from growing. Either way only acknowledged entries
/// are trimmed: the trim point never passes a pending or undelivered entry.
public enum TrimPolicy: Sendable, Equatable {
    case none
    /// Keep about this many entries.
    case maxLength(Int)
    /// Keep entries younger than this.
    case maxAge(Duration)
}

/// Per-job-type settings.
public struct JobTypeOptions: Sendable, Equatable {
    public var type: String
    public var queue: String
    public var retry: RetryPolicy
    /// A run taking longer fails as transient; `nil` waits forever.
    public var timeout: Duration?

    public init(type: String, queue: String, retry: RetryPolicy = .default, timeout: Duration? = nil) {
        self.type = type
        self.queue = queue
        self.retry = retry
        self.timeout = timeout
    }
}
