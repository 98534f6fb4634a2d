import Foundation
import PressroomQueue

/// The diagnostics job: sleeps, then succeeds or fails as asked, so operators
/// can check a deployment end to end and benchmarks can measure the engine.
public struct SleepJob: JobHandler {
    public static let type = "sleep"

    struct Payload: Decodable {
        var ms: Int = 0
        var fail: Failure = .none

        enum Failure: String, Decodable {
            case none, transient, permanent
        }

        enum CodingKeys: String, CodingKey { case ms, fail }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ms = try c.decodeIfPresent(Int.self, forKey: .ms) ?? 0
            fail = try c.decodeIfPresent(Failure.self, forKey: .fail) ?? .none
        }
    }

    public init() {}

    public func handle(_ context: JobContext) async throws -> Data? {
        let payload = try context.job.decodePayload(Payload.self)
        guard (0...3_600_000).contains(payload.ms) else {
            throw JobError.permanent("payload.ms must be 0-3600000")
        }
        if payload.ms > 0 {
            try await Task.sleep(for: .milliseconds(payload.ms))
        }
        switch payload.fail {
        case .none:
            return Data(#"{"slept_ms":\#(payload.ms)}"#.utf8)
        case .transient:
            throw JobError.transient("diagnostics: asked to fail transiently")
        case .permanent:
            throw JobError.permanent("diagnostics: asked to fail permanently")
        }
    }
}
