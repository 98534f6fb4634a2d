import ArgumentParser
import Foundation
import PressroomStorage

/// Prints one object's metadata.
struct StoreHeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "head", abstract: "Show KEY's size, type and checksum.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Object key.") var key: String

    func run() async throws {
        guard let metadata = try await store.makeStore().head(key) else {
            print("no object \(key)")
            throw ExitCode(2)
        }
        print("key:           \(metadata.key)")
        print("size:          \(metadata.size)")
        print("content-type:  \(metadata.contentType ?? "-")")
        print("sha256:        \(metadata.checksumSHA256 ?? "-")")
        print("last-modified: \(metadata.lastModified.map { "\($0)" } ?? "-")")
    }
}
