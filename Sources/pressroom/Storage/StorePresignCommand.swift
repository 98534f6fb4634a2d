import ArgumentParser
import Foundation
import PressroomStorage

/// Prints a presigned URL (what a print vendor gets).
struct StorePresignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "presign", abstract: "Print a presigned URL for KEY.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Object key.") var key: String
    @Option(help: "get or put.") var method: PresignMethod = .get
    @Option(help: "Validity in seconds (at most 604800, 7 days).") var expires = 3600

    func validate() throws {
        guard (1...604_800).contains(expires) else { throw ValidationError("--expires must be between 1 and 604800 seconds") }
    }

    func run() async throws {
        print(try await store.makeStore().presignedURL(for: key, method: method, expiresIn: .seconds(expires)).absoluteString)
    }
}

extension PresignMethod: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }
}
