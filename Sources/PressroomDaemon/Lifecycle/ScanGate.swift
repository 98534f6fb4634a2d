import Foundation
import Logging
import Metrics
import PressroomQueue
import PressroomScan
import PressroomStorage
import Synchronization

/// Nothing is decoded before clamd has called its bytes clean. Verdicts are
/// kept by content SHA-256, so the same bytes are never scanned twice (until
/// `verdictTTL`, when newer signatures get a look); an infected source is
/// quarantined or tagged, announced on the queue's events stream, and its
/// job fails permanently with the signature name. clamd being unreachable is
/// a transient failure: never a pass.
final class ScanGate: Sendable {
    let client: ClamdClient
    let settings: ScanSettings
    private let ledger: UploadLedger
    private let store: any ObjectStore
    private let events: RedisClient
    private let namespace: String
    private let eventsMaxLength: [String: Int]
    /// clamd's VERSION line, re-read every few minutes (it names the signature database).
    private let engine = Mutex<(line: String, at: ContinuousClock.Instant)?>(nil)

    init(settings: ScanSettings, ledger: UploadLedger, store: any ObjectStore, events: RedisClient, namespace: String, eventsMaxLength: [String: Int]) throws {
        self.settings = settings
        self.client = ClamdClient(options: try settings.clientOptions)
        self.ledger = ledger
        self.store = store
        self.events = events
        self.namespace = namespace
        self.eventsMaxLength = eventsMaxLength
    }

    /// Before any download: a source whose content is already known to be
    /// infected (its SHA-256 from the store's metadata) is refused unread.
    func refuseKnownInfected(source: String, sha256: String, context: JobContext) async throws {
        guard let stored = try? await ledger.verdict(sha256: sha256), case .infected(let signature) = stored.verdict else { return }
        try await refuse(source: source, sha256: sha256, signature: signature, context: context)
    }

    /// Scans `data` (the exact bytes about to be decoded) unless its verdict is known.
    func check(source: String, data: Data, sha256: String, context: JobContext) async throws {
        try await check(source: source, sha256: sha256, byteCount: data.count, context: context) { try await $0.scan(data) }
    }

    /// Scans `file` (a spooled source, the exact bytes about to be decoded) unless its verdict
    /// is known: clamd gets it in chunks read from the file, never all of it in memory.
    func check(source: String, file: URL, byteCount: Int64, sha256: String, context: JobContext) async throws {
        try await check(source: source, sha256: sha256, byteCount: Int(byteCount), context: context) { try await $0.scan(file: file) }
    }

    private func check(source: String, sha256: String, byteCount: Int, context: JobContext,
                       scanning: (ClamdClient) async throws -> ScanVerdict) async throws {
        let verdict: ScanVerdict
        if let stored = try await knownVerdict(sha256) {
            verdict = stored.verdict
            Counter(label: "pressroom_scans_total", dimensions: [("result", "cached")]).increment()
        } else {
            let started = ContinuousClock.now
            do {
                verdict = try await scanning(client)
            } catch let error as ClamdError {
                Counter(label: "pressroom_scans_total", dimensions: [("result", "error")]).increment()
                if error.isTransient {
                    throw JobError.transient("scanning \(source): clamd at \(settings.address) did not give a verdict (\(error.message)); the source stays unread until it does",
                                             retryAfter: .seconds(5))
                }
                throw JobError.permanent("scanning \(source): \(error.message)")
            }
            Metrics.Timer(label: "pressroom_scan_duration_seconds", preferredDisplayUnit: .seconds).recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            Counter(label: "pressroom_scan_bytes_total").increment(by: byteCount)
            Counter(label: "pressroom_scans_total", dimensions: [("result", verdict.isClean ? "clean" : "infected")]).increment()
            let line = (try? await engineVersion()) ?? "unknown"
            try await ledger.record(.init(verdict: verdict, engine: line, at: UploadLedger.nowMs()), sha256: sha256, ttl: settings.verdictTTL.duration)
        }
        if case .infected(let signature) = verdict {
            try await refuse(source: source, sha256: sha256, signature: signature, context: context)
        }
    }

    private func knownVerdict(_ sha256: String) async throws -> UploadLedger.StoredVerdict? {
        do {
            return try await ledger.verdict(sha256: sha256)
        } catch {
            throw JobError.transient("reading the scan verdict: \(error)")
        }
    }

    private func engineVersion() async throws -> String {
        if let cached = engine.withLock({ $0 }), ContinuousClock.now - cached.at < .seconds(300) { return cached.line }
        let line = try await client.version()
        engine.withLock { $0 = (line, .now) }
        return line
    }

    /// Quarantines or tags the object, publishes `infected`, and fails the job for good.
    private func refuse(source: String, sha256: String, signature: String, context: JobContext) async throws -> Never {
        let action: String
        var detail = ""
        do {
            switch settings.onInfected {
            case .quarantine:
                let target = settings.quarantinePrefix + source
                do {
                    _ = try await store.copyIfAbsent(from: source, to: target)
                } catch let error as ObjectStoreError where error.code == .notFound {
                    // An earlier run moved it already.
                    guard try await store.head(target) != nil else { throw error }
                }
                try await store.delete(source)
                action = "quarantined"
                detail = " (moved to \(target))"
            case .tag:
                try await store.setTags(source, ["pressroom-scan": "infected", "pressroom-signature": Self.tagValue(signature)])
                action = "tagged"
            }
        } catch {
            throw JobFailure.classify(error, while: "isolating infected source \(source)")
        }
        let job = context.job
        let keys = job.keys(namespace: namespace)
        let maxLength = eventsMaxLength[job.queue] ?? 100_000
        if maxLength > 0 {
            _ = try? await events.call(["XADD", keys.events, "MAXLEN", "~", String(maxLength), "*",
                                        "event", "infected", "id", job.id, "type", job.type, "queue", job.queue,
                                        "source", source, "sha256", sha256, "signature", signature, "action", action,
                                        "at", String(UploadLedger.nowMs())])
        }
        context.logger.warning("infected source refused", metadata: ["source": "\(source)", "signature": "\(signature)", "action": "\(action)"])
        throw JobError.permanent("source '\(source)' is infected: clamd found \(signature); \(action)\(detail), never decoded")
    }

    /// S3 tag values allow letters, digits, spaces and `+ - = . _ : / @`.
    static func tagValue(_ text: String) -> String {
        String(text.prefix(256).map { $0.isLetter || $0.isNumber || " +-=._:/@".contains($0) ? $0 : "_" })
    }
}
