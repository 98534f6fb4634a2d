import Foundation
import Logging
import Testing

@testable import PressroomStorage

/// The servers started by `scripts/services/s3.sh` and `ministack.sh`. A
/// missing variable fails the test with the command to run, never skips it.
enum TestServers {
    struct Server {
        var endpoint: String
        var accessKey: String
        var secretKey: String
        var bucket: String
        var port: Int { URL(string: endpoint)!.port! }

        func configuration(endpoint: String? = nil, bucket: String? = nil, secret: String? = nil) -> S3Configuration {
            S3Configuration(
                endpoint: endpoint ?? self.endpoint, region: "us-east-1", bucket: bucket ?? self.bucket,
                addressingStyle: .path, accessKeyID: accessKey, secretAccessKey: secret ?? secretKey,
                multipartThresholdBytes: 5 << 20, multipartPartSizeBytes: 5 << 20,
                retry: S3RetryPolicy(maxAttempts: 3, initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.2)
            )
        }
    }

    static func moto() throws -> Server {
        try server(prefix: "PRESSROOM_TEST_S3", script: "s3.sh")
    }

    static func ministack() throws -> Server {
        try server(prefix: "PRESSROOM_TEST_MINISTACK", script: "ministack.sh")
    }

    private static func server(prefix: String, script: String) throws -> Server {
        let env = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            try #require(
                env["\(prefix)_\(name)"],
                "\(prefix)_\(name) is not set: run the tests with scripts/test.sh, or eval \"$(scripts/services/\(script) start)\" first"
            )
        }
        return Server(endpoint: try value("ENDPOINT"), accessKey: try value("ACCESS_KEY"), secretKey: try value("SECRET_KEY"), bucket: try value("BUCKET"))
    }

    static let logger = Logger(label: "pressroom.storage.tests")

    /// A key prefix no other test (or earlier run) uses. Only unreserved
    /// characters: moto 5.2 answers a false 403 to a signed query value that
    /// needs percent-encoding (such as `/` in a list prefix).
    static func uniquePrefix(_ name: String) -> String {
        "tests-\(name)-\(UUID().uuidString.prefix(8))-"
    }

    /// Deterministic pseudo-random bytes (so failures reproduce).
    static func bytes(_ count: Int, seed: UInt64) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<words.count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                words[i] = state
            }
        }
        return data
    }
}
