import Foundation
import Logging
import PressroomImaging
import Testing

/// Test inputs: fixture files, the repository's policy catalogue, one shared pipeline.
enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: url(name))
    }

    /// The repository root (tests read the shipped `config/` catalogue).
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var policiesDirectory: URL { repository.appendingPathComponent("config/policies") }
    static var profilesDirectory: URL { repository.appendingPathComponent("config/profiles") }

    static func catalog() throws -> PolicyCatalog {
        try PolicyCatalog.load(directory: policiesDirectory)
    }

    private static let sharedImaging: Result<Imaging, any Error> = Result {
        try Imaging(configuration: ImagingConfiguration(blockingThreads: 2), logger: Logger(label: "test.imaging"))
    }

    static func imaging() throws -> Imaging {
        try sharedImaging.get()
    }

    /// A master's bytes, read from its spool file, which is removed (as a job removes it once stored).
    static func take(_ master: MasterFile) throws -> Data {
        defer { try? FileManager.default.removeItem(at: master.file) }
        return try Data(contentsOf: master.file)
    }

    /// Bytes in a temporary file, for checks that read masters from files.
    static func file(_ data: Data, extension ext: String = "bin") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-test-\(UUID().uuidString).\(ext)")
        try data.write(to: url)
        return url
    }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pressroom-imaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Runs `body` and returns the `ImagingError` it throws (recording an issue when it does not).
func imagingError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> ImagingError? {
    do {
        try await body()
        Issue.record("expected an ImagingError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as ImagingError {
        return error
    } catch {
        Issue.record("expected an ImagingError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
