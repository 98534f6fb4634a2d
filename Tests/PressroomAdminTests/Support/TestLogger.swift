import Logging

extension Logger {
    /// A logger that drops everything, so tests never touch the global LoggingSystem.
    static let quiet = Logger(label: "pressroom.admin.tests", factory: { _ in SwiftLogNoOpLogHandler() })
}
