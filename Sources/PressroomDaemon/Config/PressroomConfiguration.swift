import Foundation
import PressroomFulfillment
import PressroomQueue
import PressroomStorage

/// The whole daemon configuration: one YAML file, every field overridable by
/// a `PRESSROOM_…` environment variable (see ``ConfigurationLoader``).
public struct PressroomConfiguration: Codable, Sendable, Equatable {
    public struct Redis: Codable, Sendable, Equatable {
        /// `redis://[user:password@]host:port/db` or `unix:///path?db=N`;
        /// ``defaultURL`` when neither it nor `sentinel` is set.
        public var url: String?
        /// Prefix of every key, so several deployments can share one Redis.
        public var namespace: String = "pressroom"
        /// The Redis password (secret), when kept apart from the URL (say as
        /// `credential:redis-password`); replaces a password in `url`.
        public var password: String?
        /// A master found through Redis Sentinel, instead of `url`.
        public var sentinel: Sentinel?
        /// A Redis Cluster instead of `url` (see docs/scaling.md).
        public var cluster: Cluster?

        public static let defaultURL = "redis://127.0.0.1:6379/0"

        /// `redis.sentinel`: which master, and where its sentinels are.
        public struct Sentinel: Codable, Sendable, Equatable {
            /// The name the sentinels monitor the master under (`sentinel monitor NAME ...`).
            public var masterName: String
            /// `host:port` of each sentinel, tried in this order (port 26379 by default).
            public var sentinels: [String]
            /// The master's and replicas' password (secret); else `redis.password`.
            public var password: String?
            /// The sentinels' own password (secret), their `requirepass`.
            public var sentinelPassword: String?

            public init(masterName: String, sentinels: [String], password: String? = nil, sentinelPassword: String? = nil) {
                self.masterName = masterName
                self.sentinels = sentinels
                self.password = password
                self.sentinelPassword = sentinelPassword
            }
        }
    }

    /// `redis.cluster`: any few nodes of the cluster (the rest is read from
    /// `CLUSTER SHARDS`) and the password all its nodes share.
    public struct Cluster: Codable, Sendable, Equatable {
        /// `host:port` of nodes to ask for the slot map, tried in order.
        public var seeds: [String] = []
        /// The cluster's password (secret; `credential:`/`file:`/`env:` sources).
        public var password: String?

        public init(seeds: [String] = [], password: String? = nil) {
            self.seeds = seeds
            self.password = password
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            seeds = try c.decodeIfPresent([String].self, forKey: .seeds) ?? []
            password = try c.decodeIfPresent(String.self, forKey: .password)
        }
    }

    public struct Queue: Codable, Sendable, Equatable {
        public var concurrency: Int = 4
        public var batchSize: Int?
        public var block: DurationText = DurationText(.seconds(1))
        /// How long a nearly full lane waits for a batch of free slots before it reads.
        public var batchWait: DurationText = DurationText(.milliseconds(20))
        public var claimMinIdle: DurationText = DurationText(.seconds(60))
        public var maxDeliveries: Int = 5
        public var completedTTL: DurationText = DurationText(.seconds(7 * 86400))
        public var eventsMaxLength: Int = 100_000
        public var trim: Trim = Trim()
        /// Partitions of the queue, each under its own hash tag (a shard of
        /// its own in Redis Cluster); producers pick one from the job id.
        public var partitions: Int = 1
        /// While partitions beyond `partitions` drain after a decrease:
        /// the old count, so workers, `status` and `dlq` still read them.
        public var drainPartitions: Int?

        public init(concurrency: Int = 4) { self.concurrency = concurrency }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Queue()
            concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? d.concurrency
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
            block = try c.decodeIfPresent(DurationText.self, forKey: .block) ?? d.block
            batchWait = try c.decodeIfPresent(DurationText.self, forKey: .batchWait) ?? d.batchWait
            claimMinIdle = try c.decodeIfPresent(DurationText.self, forKey: .claimMinIdle) ?? d.claimMinIdle
            maxDeliveries = try c.decodeIfPresent(Int.self, forKey: .maxDeliveries) ?? d.maxDeliveries
            completedTTL = try c.decodeIfPresent(DurationText.self, forKey: .completedTTL) ?? d.completedTTL
            eventsMaxLength = try c.decodeIfPresent(Int.self, forKey: .eventsMaxLength) ?? d.eventsMaxLength
            trim = try c.decodeIfPresent(Trim.self, forKey: .trim) ?? d.trim
            partitions = try c.decodeIfPresent(Int.self, forKey: .partitions) ?? d.partitions
            drainPartitions = try c.decodeIfPresent(Int.self, forKey: .drainPartitions)
        }
    }

    /// Keep about `maxLength` entries or entries younger than `maxAge`;
    /// only acknowledged entries are ever trimmed.
    public struct Trim: Codable, Sendable, Equatable {
        public var maxLength: Int?
        public var maxAge: DurationText?

        public init(maxLength: Int? = 100_000, maxAge: DurationText? = nil) {
            self.maxLength = maxLength
            self.maxAge = maxAge
        }
    }

    public struct JobType: Codable, Sendable, Equatable {
        public var queue: String
        public var maxAttempts: Int = 5
        public var initialBackoff: DurationText = DurationText(.seconds(1))
        public var maxBackoff: DurationText = DurationText(.seconds(300))
        public var multiplier: Double = 2
        public var jitter: Double = 0.2
        public var timeout: DurationText?

        public init(queue: String) { self.queue = queue }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            var d = JobType(queue: "")
            d.queue = try c.decode(String.self, forKey: .queue)
            d.maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
            d.initialBackoff = try c.decodeIfPresent(DurationText.self, forKey: .initialBackoff) ?? d.initialBackoff
            d.maxBackoff = try c.decodeIfPresent(DurationText.self, forKey: .maxBackoff) ?? d.maxBackoff
            d.multiplier = try c.decodeIfPresent(Double.self, forKey: .multiplier) ?? d.multiplier
            d.jitter = try c.decodeIfPresent(Double.self, forKey: .jitter) ?? d.jitter
            d.timeout = try c.decodeIfPresent(DurationText.self, forKey: .timeout)
            self = d
        }

        var retryPolicy: RetryPolicy {
            RetryPolicy(maxAttempts: maxAttempts, initialBackoff: initialBackoff.duration, maxBackoff: maxBackoff.duration,
                        multiplier: multiplier, jitter: jitter)
        }
    }

    public struct Log: Codable, Sendable, Equatable {
        public var level: String = "info"
        /// `logfmt` (default) or `json`.
        public var format: String = "logfmt"
    }

    public struct Admin: Codable, Sendable, Equatable {
        public var enabled: Bool = true
        public var host: String = "127.0.0.1"
        /// With `run --instance N` (systemd's numeric `%i`), the port is `port + N`.
        public var port: Int = 9464
        /// Exit when the port cannot be bound; by default the worker goes on
        /// serving jobs and reports the problem in its log and `pressroom status`.
        public var required: Bool = false
        /// The operator console on `/` and `/console/…`.
        public var console = ConsoleConfiguration()
    }

    public var redis = Redis()
    /// Consumer name; defaults to the host name. Unique per live process.
    public var consumer: String?
    /// Enables the built-in `sleep` job type for end-to-end checks.
    public var diagnostics: Bool = false
    public var drainTimeout: DurationText = DurationText(.seconds(30))
    public var log = Log()
    public var admin = Admin()
    public var queues: [String: Queue] = [
        "derive": Queue(concurrency: 4),
        "render": Queue(concurrency: 2),
        "fulfill": Queue(concurrency: 32),
    ]
    public var jobs: [String: JobType] = [:]
    /// Where originals are read and derivatives/masters written: the local
    /// filesystem (quick start) or any S3-compatible store.
    public var storage: StorageConfiguration = .quickStart
    public var imaging = ImagingSettings()
    public var fulfillment = FulfillmentSettings()
    /// Print vendors by name: read from the file `fulfillment.vendors` names
    /// (config/vendors.yaml documents every field), or given inline.
    public var vendors: [String: VendorConfiguration] = [:]
    /// Malware scanning of sources before decoding; off when absent.
    public var scan: ScanSettings?
    public var retention = RetentionSettings()
    public var quotas = QuotaSettings()

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PressroomConfiguration()
        redis = try c.decodeIfPresent(Redis.self, forKey: .redis) ?? d.redis
        consumer = try c.decodeIfPresent(String.self, forKey: .consumer)
        diagnostics = try c.decodeIfPresent(Bool.self, forKey: .diagnostics) ?? d.diagnostics
        drainTimeout = try c.decodeIfPresent(DurationText.self, forKey: .drainTimeout) ?? d.drainTimeout
        log = try c.decodeIfPresent(Log.self, forKey: .log) ?? d.log
        admin = try c.decodeIfPresent(Admin.self, forKey: .admin) ?? d.admin
        queues = try c.decodeIfPresent([String: Queue].self, forKey: .queues) ?? d.queues
        jobs = try c.decodeIfPresent([String: JobType].self, forKey: .jobs) ?? d.jobs
        storage = try c.decodeIfPresent(StorageConfiguration.self, forKey: .storage) ?? d.storage
        imaging = try c.decodeIfPresent(ImagingSettings.self, forKey: .imaging) ?? d.imaging
        fulfillment = try c.decodeIfPresent(FulfillmentSettings.self, forKey: .fulfillment) ?? d.fulfillment
        vendors = try c.decodeIfPresent([String: VendorConfiguration].self, forKey: .vendors) ?? d.vendors
        scan = try c.decodeIfPresent(ScanSettings.self, forKey: .scan)
        retention = try c.decodeIfPresent(RetentionSettings.self, forKey: .retention) ?? d.retention
        quotas = try c.decodeIfPresent(QuotaSettings.self, forKey: .quotas) ?? d.quotas
    }
}

extension PressroomConfiguration.Redis {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        namespace = try c.decodeIfPresent(String.self, forKey: .namespace) ?? "pressroom"
        password = try c.decodeIfPresent(String.self, forKey: .password)
        sentinel = try c.decodeIfPresent(Sentinel.self, forKey: .sentinel)
        cluster = try c.decodeIfPresent(PressroomConfiguration.Cluster.self, forKey: .cluster)
    }
}

extension PressroomConfiguration.Log {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decodeIfPresent(String.self, forKey: .level) ?? "info"
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? "logfmt"
    }
}

extension PressroomConfiguration.Admin {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1"
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 9464
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        console = try c.decodeIfPresent(ConsoleConfiguration.self, forKey: .console) ?? ConsoleConfiguration()
    }
}

extension PressroomConfiguration.Trim {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength)
        maxAge = try c.decodeIfPresent(DurationText.self, forKey: .maxAge)
    }
}
