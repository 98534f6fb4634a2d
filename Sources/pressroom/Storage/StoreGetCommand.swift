import ArgumentParser
import Foundation
import PressroomStorage

/// Downloads one object to a file, streamed and checksum-verified.
struct StoreGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Download KEY to a file.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Object key.") var key: String
    @Argument(help: "Output file (default: the key's last path segment).") var output: String?

    func run() async throws {
        let path = output ?? String(key.split(separator: "/").last ?? Substring(key))
        let metadata = try await store.makeStore().get(key, toFile: URL(fileURLWithPath: path))
        print("wrote \(metadata.size) bytes to \(path)")
    }
}
