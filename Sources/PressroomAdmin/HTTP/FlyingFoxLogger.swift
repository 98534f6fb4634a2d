import FlyingSocks
import Logging
import Synchronization

/// Forwards FlyingFox's log lines into the daemon's swift-log `Logger`.
///
/// FlyingFox logs every connection at info and reports the closed listening
/// socket as a critical "server error" even when we stopped it on purpose, so
/// levels are lowered one step and errors after a requested stop go to debug.
struct FlyingFoxLogger: FlyingSocks.Logging {
    let logger: Logger
    let stopping: @Sendable () -> Bool

    func logDebug(_ debug: @autoclosure () -> String) {
        logger.trace("\(debug())")
    }

    func logInfo(_ info: @autoclosure () -> String) {
        logger.debug("\(info())")
    }

    func logWarning(_ warning: @autoclosure () -> String) {
        logger.warning("\(warning())")
    }

    func logError(_ error: @autoclosure () -> String) {
        if stopping() {
            logger.debug("\(error())")
        } else {
            logger.error("\(error())")
        }
    }

    func logCritical(_ critical: @autoclosure () -> String) {
        logError(critical())
    }
}
