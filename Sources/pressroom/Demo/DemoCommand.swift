import ArgumentParser
import Foundation
import PressroomDaemon

/// `pressroom demo`: the quick start's second command (logic in PressroomDaemon's `Demo`).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Push a sample photo through upload, derive, a two-line order, render, fulfil and the sandbox vendor of a running daemon.",
        discussion: "Without --config (or PRESSROOM_CONFIG) it uses config/pressroom.example.yaml, as scripts/run.sh does.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The photo to push (default: the sample shipped in fixtures/demo).")
    var photo: String = "fixtures/demo/landscape.jpg"

    @Option(help: "Seconds to wait for any one step before giving up.")
    var timeout: Int = 300

    func run() async throws {
        var options = self.options
        if options.config == nil, ProcessInfo.processInfo.environment["PRESSROOM_CONFIG"] == nil {
            options.config = "config/pressroom.example.yaml"
        }
        var demoOptions = Demo.Options()
        demoOptions.photo = photo
        demoOptions.timeout = .seconds(max(1, timeout))
        let demo = Demo(configuration: try options.load().configuration, options: demoOptions) { print($0) }
        do {
            let outcome = try await demo.run()
            print("\ndone: order \(outcome.orderID) is \(outcome.finalState)")
            if outcome.finalState == "failed" { throw ExitCode(2) }
        } catch let failure as Demo.Failure {
            FileHandle.standardError.write(Data("pressroom demo: \(failure)\n".utf8))
            throw ExitCode(1)
        }
    }
}
