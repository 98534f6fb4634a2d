import Logging

/// One event with its metadata merged (handler < provider < call site) and
/// sorted by key, ready for a format to render.
struct LogRecord {
    var timestamp: String
    var level: Logger.Level
    var message: String
    var label: String
    var error: String?
    var metadata: [(key: String, value: Logger.MetadataValue)]

    init(
        event: LogEvent,
        label: String,
        handlerMetadata: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        timestamp: String = LogTimestamp.now()
    ) {
        var merged = handlerMetadata
        if let provided = provider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let metadata = event.metadata {
            merged.merge(metadata) { _, new in new }
        }
        self.timestamp = timestamp
        self.level = event.level
        self.message = event.message.description
        self.label = label
        self.error = event.error.map { String(describing: $0) }
        self.metadata = merged.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }
}
