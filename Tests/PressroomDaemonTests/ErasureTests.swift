import Foundation
@testable import PressroomDaemon
import PressroomQueue
import PressroomStorage
import Synchronization
import Testing

/// `erase`, and above all its race with a derive that is already running.
@Suite struct ErasureTests {
    /// Holds the first write under `derived/` at a chosen point until released,
    /// so a test can run an erase at exactly that moment.
    final class GateStore: ObjectStore, Sendable {
        enum Point: Sendable { case beforeWrite, afterWrite }
        let base: any ObjectStore
        let point: Point
        private let state = Mutex<(armed: Bool, reached: Bool, released: Bool)>((true, false, false))

        init(_ base: any ObjectStore, at point: Point) {
            self.base = base
            self.point = point
        }

        var reached: Bool { state.withLock { $0.reached } }
        func release() { state.withLock { $0.released = true } }

        private func hold(_ key: String) async throws {
            let holding = state.withLock { s -> Bool in
                guard s.armed, key.hasPrefix("derived/") else { return false }
                s.armed = false
                s.reached = true
                return true
            }
            guard holding else { return }
            while !state.withLock({ $0.released }) { try await Task.sleep(for: .milliseconds(5)) }
        }

        func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome {
            if point == .beforeWrite { try await hold(key) }
            let outcome = try await base.putIfAbsent(key, data: data, contentType: contentType)
            if point == .afterWrite { try await hold(key) }
            return outcome
        }

        func get(_ key: String) async throws -> Data { try await base.get(key) }
        func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata { try await base.get(key, toFile: file, maxBytes: maxBytes) }
        func head(_ key: String) async throws -> ObjectMetadata? { try await base.head(key) }
        func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome { try await base.putIfAbsent(key, file: file, contentType: contentType, sha256: sha256) }
        func delete(_ key: String) async throws { try await base.delete(key) }
        func delete(keys: [String]) async throws -> [String: String] { try await base.delete(keys: keys) }
        func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata] { try await base.list(prefix: prefix, limit: limit) }
        func listPage(prefix: String, after cursor: String?, limit: Int) async throws -> ObjectListPage { try await base.listPage(prefix: prefix, after: cursor, limit: limit) }
        func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL { try await base.presignedURL(for: key, method: method, expiresIn: expiresIn) }
    }

    func everything(_ h: LifecycleHarness) async throws -> [String] {
        try await h.keys(under: "")
    }

    /// The derive has named its outputs and is about to write the first one
    /// (or has just written it) when the erase runs. Either way nothing of
    /// the upload survives, and the erase reports once, after the writer is done.
    @Test(arguments: [GateStore.Point.beforeWrite, .afterWrite])
    func anEraseRacingARunningDeriveLeavesNothingBehind(point: GateStore.Point) async throws {
        nonisolated(unsafe) var gate: GateStore?
        let h = try LifecycleHarness(wrap: { base in
            let store = GateStore(base, at: point)
            gate = store
            return store
        })
        let gateStore = try #require(gate)
        try await h.put("uploads/a.jpg", LifecycleHarness.photo)
        // A finished job's state record that names the upload (the derive below adds its id to the record).
        try await h.redis.call(["SET", h.queueKeys("derive").job("d-race"), #"{"status":"succeeded","attempt":1,"result":{"source":"uploads/a.jpg"}}"#])
        let derive = Task { _ = try await h.run("derive", id: "d-race", payload: #"{"source":"uploads/a.jpg"}"#) }
        try await eventually(timeout: .seconds(30), "the derive reaching its first write") { gateStore.reached }

        // The erase runs while the derive holds its write lease: it deletes
        // what exists and waits (transient) for the writer.
        let first = try await h.failure("erase", id: "e-race", payload: #"{"source":"uploads/a.jpg"}"#)
        #expect(first.errorClass == .transient, "\(first)")
        #expect(first.message.contains("in flight"))
        #expect(try await h.store.head("uploads/a.jpg") == nil, "the original goes at once")
        #expect(try await h.stream(h.keys.audit).isEmpty, "no audit entry before the erase is complete")

        gateStore.release()
        do {
            try await derive.value
            Issue.record("the derive of an erased upload succeeded")
        } catch let error as JobError {
            #expect(error.errorClass == .permanent)
            #expect(error.message.contains("was erased while it was processed"), "\(error.message)")
        }
        let left = try await everything(h)
        #expect(left.isEmpty, "the derive's writes did not resurrect the upload: \(left)")

        // The erase's retry completes and publishes one audit entry, counts only.
        let done = try await h.run("erase", id: "e-race", payload: #"{"source":"uploads/a.jpg"}"#, attempt: 2)
        #expect(done["uploads"] as? Int == 1)
        #expect(done["job_records"] as? Int == 1)
        #expect(try await h.redis.call(["EXISTS", h.queueKeys("derive").job("d-race")]).int == 0, "job-state record deleted")
        let audit = try await h.stream(h.keys.audit)
        #expect(audit.count == 1)
        #expect(audit.first?["job"] == "e-race")
        #expect(audit.first.map { !$0.values.contains { $0.contains("uploads/") } } == true, "the audit names no key")
        #expect(try await h.lifecycle.ledger.record(upload: "uploads/a.jpg").isEmpty)
        #expect(try await everything(h).isEmpty)

        // A derive enqueued before the erase and run after it is refused before decoding.
        try await h.put("uploads/a.jpg", LifecycleHarness.photo)
        let late = try await h.failure("derive", payload: #"{"source":"uploads/a.jpg"}"#)
        #expect(late.errorClass == .permanent)
        #expect(late.message.contains("was erased"))
        #expect(try await h.keys(under: "derived/").isEmpty)
    }

    @Test func eraseDeletesOriginalDerivativesMastersAndIsIdempotent() async throws {
        let h = try LifecycleHarness()
        try await h.put("uploads/a.jpg", LifecycleHarness.photo)
        _ = try await h.run("derive", payload: #"{"source":"uploads/a.jpg"}"#)
        _ = try await h.run("render", payload: #"{"source":"uploads/a.jpg","policy":"sticker-small"}"#)
        #expect(try await h.keys(under: "derived/").count >= 3)
        #expect(try await h.keys(under: "masters/").count == 1)
        let result = try await h.run("erase", id: "e1", payload: #"{"source":"uploads/a.jpg"}"#)
        #expect(result["originals"] as? Int == 1)
        #expect((result["derivatives"] as? Int ?? 0) >= 3)
        #expect(result["masters"] as? Int == 1)
        #expect((result["bytes"] as? Int ?? 0) > LifecycleHarness.photo.count)
        #expect(result["already_erased"] as? Bool == false)
        #expect(try await everything(h).isEmpty)
        // The same job again (a redelivery) adds no second audit entry; a new erase finds nothing.
        _ = try await h.run("erase", id: "e1", payload: #"{"source":"uploads/a.jpg"}"#)
        #expect(try await h.stream(h.keys.audit).count == 1)
        let again = try await h.run("erase", id: "e2", payload: #"{"source":"uploads/a.jpg"}"#)
        #expect(again["already_erased"] as? Bool == true)
        #expect(again["originals"] as? Int == 0)
    }

    @Test func derivativesSharedWithAnotherUploadOfTheSameBytesStay() async throws {
        let h = try LifecycleHarness()
        try await h.put("uploads/a.jpg", LifecycleHarness.photo)
        try await h.put("uploads/b.jpg", LifecycleHarness.photo)
        _ = try await h.run("derive", payload: #"{"source":"uploads/a.jpg"}"#)
        _ = try await h.run("derive", payload: #"{"source":"uploads/b.jpg"}"#)
        let derived = try await h.keys(under: "derived/")
        _ = try await h.run("erase", payload: #"{"source":"uploads/a.jpg"}"#)
        #expect(try await h.store.head("uploads/a.jpg") == nil)
        #expect(try await h.keys(under: "derived/") == derived, "b.jpg's derivatives are the same objects")
        let last = try await h.run("erase", payload: #"{"source":"uploads/b.jpg"}"#)
        #expect((last["derivatives"] as? Int ?? 0) == derived.count)
        #expect(try await everything(h).isEmpty)
    }

    @Test func eraseByCustomerRemovesEveryUploadOfTheCustomer() async throws {
        let h = try LifecycleHarness()
        try await h.put("uploads/c1.jpg", LifecycleHarness.photo)
        try await h.put("uploads/c2.jpg", LifecycleHarness.otherPhoto)
        try await h.put("uploads/other.jpg", LifecycleHarness.markedPhoto)
        _ = try await h.run("derive", payload: #"{"source":"uploads/c1.jpg","shop":"acme","customer":"c-17"}"#)
        _ = try await h.run("derive", payload: #"{"source":"uploads/c2.jpg","shop":"acme","customer":"c-17"}"#)
        _ = try await h.run("derive", payload: #"{"source":"uploads/other.jpg","shop":"acme","customer":"c-18"}"#)
        let result = try await h.run("erase", payload: #"{"shop":"acme","customer":"c-17"}"#)
        #expect(result["uploads"] as? Int == 2)
        #expect(result["scope"] as? String == "customer")
        #expect(try await h.keys(under: "uploads/") == ["uploads/other.jpg"])
        #expect(!(try await h.keys(under: "derived/")).isEmpty, "other.jpg's derivatives stay")
        #expect(try await h.lifecycle.ledger.record(upload: "uploads/other.jpg")["customer"] == "c-18")
    }
}
