/// Which handler runs which job type, on which queue, with which retry policy.
/// Built once by the daemon before the worker starts.
public struct JobRegistry: Sendable {
    public struct Entry: Sendable {
        public let options: JobTypeOptions
        public let handler: any JobHandler
    }

    public private(set) var entries: [String: Entry] = [:]

    public init() {}

    public mutating func register(_ options: JobTypeOptions, handler: any JobHandler) {
        entries[options.type] = Entry(options: options, handler: handler)
    }

    public func entry(for type: String) -> Entry? { entries[type] }

    /// The job types handled on `queue`, sorted, for error messages.
    public func types(on queue: String) -> [String] {
        entries.values.filter { $0.options.queue == queue }.map(\.options.type).sorted()
    }
}
