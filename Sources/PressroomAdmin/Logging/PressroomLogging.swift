import Logging
import Synchronization

/// Sets up swift-log for the `pressroom` executable. Libraries never call
/// this: they take a `Logger` from their caller.
public enum PressroomLogging {
    private static let bootstrapped = Mutex(false)

    /// Makes a handler of the chosen format (also for tests and for
    /// `LoggingSystem.bootstrap` with extra options).
    public static func makeHandler(
        label: String,
        format: LogFormat = .logfmt,
        level: Logger.Level = .info,
        output: LogOutput = .standardError,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> any LogHandler {
        switch format {
        case .logfmt:
            LogfmtLogHandler(label: label, level: level, output: output, metadataProvider: metadataProvider)
        case .json:
            JSONLogHandler(label: label, level: level, output: output, metadataProvider: metadataProvider)
        }
    }

    /// Installs the process-wide handler. swift-log allows one bootstrap per
    /// process, so only the first call has an effect; it returns whether it did.
    @discardableResult
    public static func bootstrap(
        format: LogFormat = .logfmt,
        level: Logger.Level = .info,
        output: LogOutput = .standardError,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> Bool {
        let first = bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return false }
        LoggingSystem.bootstrap({ label, provider in
            makeHandler(label: label, format: format, level: level, output: output, metadataProvider: provider)
        }, metadataProvider: metadataProvider)
        return true
    }
}
