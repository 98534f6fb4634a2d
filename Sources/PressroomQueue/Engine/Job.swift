import Foundation
import Logging

/// One delivery of a job to a handler.
public struct Job: Sendable {
    /// The producer-chosen id; the idempotency key of the job.
    public let id: String
    public let type: String
    public let queue: String
    /// The queue partition it was read from (its events and state live there).
    public let partition: Int
    /// 1 on the first run, incremented by each retry.
    public let attempt: Int
    /// The payload JSON exactly as the producer sent it.
    public let payload: Data
    /// The stream entry this delivery came from.
    public let entryID: String
    /// When the producer enqueued it, if it said so (ms since epoch in `enqueued_at`).
    public let enqueuedAt: Date?
    /// Every field of the stream entry, for handlers that need extra metadata.
    public let fields: [String: String]

    public init(id: String, type: String, queue: String, attempt: Int, payload: Data, entryID: String, enqueuedAt: Date?, fields: [String: String], partition: Int = 0) {
        self.id = id
        self.partition = partition
        self.type = type
        self.queue = queue
        self.attempt = attempt
        self.payload = payload
        self.entryID = entryID
        self.enqueuedAt = enqueuedAt
        self.fields = fields
    }

    /// Where this job's events and state are.
    public func keys(namespace: String) -> QueueKeys {
        QueueKeys(namespace: namespace, queue: queue, partition: partition)
    }

    /// Decodes the payload JSON.
    public func decodePayload<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: payload)
        } catch {
            throw JobError.permanent("payload does not match the \(self.type) schema: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }
}

/// What a handler gets: the job and a logger carrying its metadata.
public struct JobContext: Sendable {
    public let job: Job
    public let consumer: String
    private let laneLogger: Logger
    private var ownLogger: Logger?

    /// The worker's logger with the job's id, type and attempt as metadata.
    /// Made on each read until set, because most jobs never log: copy it into
    /// a local once when a handler logs several times.
    public var logger: Logger {
        get { ownLogger ?? Self.jobLogger(laneLogger, job) }
        set { ownLogger = newValue }
    }

    public init(job: Job, logger: Logger, consumer: String) {
        self.job = job
        self.laneLogger = logger
        self.ownLogger = logger
        self.consumer = consumer
    }

    /// A context whose logger gets the job's metadata only when first read.
    init(job: Job, laneLogger: Logger, consumer: String) {
        self.job = job
        self.laneLogger = laneLogger
        self.ownLogger = nil
        self.consumer = consumer
    }

    static func jobLogger(_ logger: Logger, _ job: Job) -> Logger {
        var logger = logger
        logger[metadataKey: "job_id"] = "\(job.id)"
        logger[metadataKey: "type"] = "\(job.type)"
        logger[metadataKey: "attempt"] = "\(job.attempt)"
        return logger
    }
}

/// Runs one job type. Return a JSON result (published on the events stream
/// and kept with the completed-id record) or `nil`.
///
/// Throw ``JobError`` to say whether a failure is worth retrying; any other
/// error counts as transient, so a surprise is retried and, if it persists,
/// dead-lettered after the type's maximum attempts.
public protocol JobHandler: Sendable {
    func handle(_ context: JobContext) async throws -> Data?
}

/// A handler from a closure.
public struct ClosureJobHandler: JobHandler {
    private let body: @Sendable (JobContext) async throws -> Data?

    public init(_ body: @escaping @Sendable (JobContext) async throws -> Data?) {
        self.body = body
    }

    public func handle(_ context: JobContext) async throws -> Data? {
        try await body(context)
    }
}
