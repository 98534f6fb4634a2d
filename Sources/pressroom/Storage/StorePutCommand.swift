import ArgumentParser
import Foundation
import PressroomStorage

/// Uploads one file, create-only (multipart above the configured threshold).
struct StorePutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Upload a file to KEY unless it exists.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Object key.") var key: String
    @Argument(help: "File to upload.") var file: String
    @Option(help: "Content type.") var contentType = "application/octet-stream"

    func run() async throws {
        let outcome = try await store.makeStore().putIfAbsent(key, file: URL(fileURLWithPath: file), contentType: contentType)
        print(outcome == .created ? "created \(key)" : "already there with the same content: \(key)")
    }
}
