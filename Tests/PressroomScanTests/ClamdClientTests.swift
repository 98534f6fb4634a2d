import Foundation
import PressroomScan
import Testing

/// Against the real clamd that scripts/services/clamd.sh starts with the
/// repo's signature database (EICAR and a custom marker signature).
@Suite struct ClamdClientTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func env(_ name: String) throws -> String {
        try #require(ProcessInfo.processInfo.environment[name],
                     "\(name) is not set: run scripts/test.sh, or eval \"$(scripts/services/clamd.sh start)\" first")
    }

    static func tcp() throws -> ClamdAddress { try ClamdAddress(parsing: try env("PRESSROOM_TEST_CLAMD_ADDRESS")) }
    static func unix() throws -> ClamdAddress { .unix(path: try env("PRESSROOM_TEST_CLAMD_SOCKET")) }

    /// The EICAR test string, assembled at run time so no file in the repo is one.
    static let eicar = Data(("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + "TEST-FILE!$H+H*").utf8)
    static var photo: Data { get throws { try Data(contentsOf: root.appendingPathComponent("Tests/PressroomImagingTests/Fixtures/exif/Landscape_2.jpg")) } }
    static var marked: Data { get throws { try Data(contentsOf: root.appendingPathComponent("scripts/services/clamd/marked-photo.jpg")) } }

    @Test(arguments: ["tcp", "unix"])
    func eicarIsCaughtAndAPhotoPasses(transport: String) async throws {
        let address = transport == "tcp" ? try Self.tcp() : try Self.unix()
        let client = ClamdClient(options: .init(address: address, chunkBytes: 7))
        try await client.ping()
        #expect(try await client.version().hasPrefix("ClamAV "))
        let verdict = try await client.scan(Self.eicar)
        guard case .infected(let signature) = verdict else {
            Issue.record("EICAR passed as \(verdict)")
            return
        }
        #expect(signature.hasPrefix("Eicar-Test-Signature"))
        #expect(try await client.scan(Self.photo) == .clean)
    }

    @Test func theCustomSignatureCatchesADecodablePhotoInSmallChunks() async throws {
        // 1 KiB chunks: the marker straddles chunk boundaries and is still found.
        let client = ClamdClient(options: .init(address: try Self.tcp(), chunkBytes: 1024))
        #expect(try await client.scan(try Self.marked) == .infected(signature: "Pressroom.Test.MarkedPhoto.UNOFFICIAL"))
        // EICAR appended to a real photo, streamed from a file.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("eicar-tail-\(UUID().uuidString).jpg")
        try (try Self.photo + Self.eicar).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try await client.scan(file: file) != .clean)
    }

    @Test func streamsLongerThanTheLimitAreRefusedNotTruncated() async throws {
        // Our own limit: refused before a byte is sent, even though the EICAR head would be found.
        let small = ClamdClient(options: .init(address: try Self.tcp(), streamMaxLength: 1000))
        let big = Self.eicar + Data(count: 5000)
        await #expect(throws: ClamdError.self) { try await small.scan(big) }
        do {
            _ = try await small.scan(big)
        } catch let error as ClamdError {
            #expect(error.code == .tooLarge)
            #expect(!error.isTransient)
        }
        // clamd's own StreamMaxLength (4M in the test config) below ours: clamd
        // hangs up, and the client reports it as too large, never as clean.
        let limit = try Self.env("PRESSROOM_TEST_CLAMD_STREAM_MAX")
        let clamdMax = (Int(limit.dropLast()) ?? 4) << 20
        let generous = ClamdClient(options: .init(address: try Self.tcp(), streamMaxLength: Int64(clamdMax) * 4))
        do {
            let verdict = try await generous.scan(Data(count: clamdMax + (1 << 20)))
            Issue.record("an over-long stream got a verdict: \(verdict)")
        } catch let error as ClamdError {
            #expect(error.code == .tooLarge, "\(error)")
        }
    }

    @Test func anUnreachableClamdIsATransientErrorNeverClean() async throws {
        let closedPort = ClamdClient(options: .init(address: .tcp(host: "127.0.0.1", port: 1), connectTimeout: .milliseconds(500)))
        do {
            let verdict = try await closedPort.scan(try Self.photo)
            Issue.record("no clamd, yet a verdict: \(verdict)")
        } catch let error as ClamdError {
            #expect(error.code == .unreachable)
            #expect(error.isTransient)
        }
        let missingSocket = ClamdClient(options: .init(address: .unix(path: "/nonexistent/clamd.sock")))
        await #expect(throws: ClamdError.self) { try await missingSocket.scan(Data("x".utf8)) }
    }

    @Test func addressesParse() throws {
        #expect(try ClamdAddress(parsing: "tcp://127.0.0.1:3310") == .tcp(host: "127.0.0.1", port: 3310))
        #expect(try ClamdAddress(parsing: "tcp://[::1]:3310") == .tcp(host: "::1", port: 3310))
        #expect(try ClamdAddress(parsing: "unix:///run/clamav/clamd.ctl") == .unix(path: "/run/clamav/clamd.ctl"))
        #expect(throws: ClamdError.self) { try ClamdAddress(parsing: "127.0.0.1:3310") }
        #expect(throws: ClamdError.self) { try ClamdAddress(parsing: "tcp://host") }
    }
}
