import PressroomQueue
import PressroomScan

/// The optional `scan:` section. When present, derive and render refuse to
/// decode a source clamd has not found clean.
public struct ScanSettings: Codable, Sendable, Equatable {
    public enum OnInfected: String, Codable, Sendable {
        /// Copy the object under `quarantinePrefix` and delete the original.
        case quarantine
        /// Leave it in place with the tags `pressroom-scan=infected` and `pressroom-signature=<name>`.
        case tag
    }

    /// `tcp://127.0.0.1:3310` or `unix:///run/clamav/clamd.ctl`.
    public var address: String
    /// Longest object sent to clamd; at most clamd's own `StreamMaxLength`.
    /// Longer sources are refused (permanent), never half-scanned.
    public var streamMaxLength: Int = 25 << 20
    /// Bytes per INSTREAM chunk.
    public var chunkBytes: Int = 256 << 10
    public var connectTimeout: DurationText = DurationText(.seconds(2))
    /// Longest wait for clamd's verdict (and for any one read or write).
    public var timeout: DurationText = DurationText(.seconds(60))
    /// Scans at once in this process.
    public var connections: Int = 4
    public var onInfected: OnInfected = .quarantine
    public var quarantinePrefix: String = "quarantine/"
    /// How long a verdict is remembered (by content SHA-256): a source is
    /// scanned again after this, with the signatures clamd has then.
    public var verdictTTL: DurationText = DurationText(.seconds(30 * 86400))

    public init(address: String) { self.address = address }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = ScanSettings(address: "")
        d.address = try c.decode(String.self, forKey: .address)
        d.streamMaxLength = try c.decodeIfPresent(Int.self, forKey: .streamMaxLength) ?? d.streamMaxLength
        d.chunkBytes = try c.decodeIfPresent(Int.self, forKey: .chunkBytes) ?? d.chunkBytes
        d.connectTimeout = try c.decodeIfPresent(DurationText.self, forKey: .connectTimeout) ?? d.connectTimeout
        d.timeout = try c.decodeIfPresent(DurationText.self, forKey: .timeout) ?? d.timeout
        d.connections = try c.decodeIfPresent(Int.self, forKey: .connections) ?? d.connections
        d.onInfected = try c.decodeIfPresent(OnInfected.self, forKey: .onInfected) ?? d.onInfected
        d.quarantinePrefix = try c.decodeIfPresent(String.self, forKey: .quarantinePrefix) ?? d.quarantinePrefix
        d.verdictTTL = try c.decodeIfPresent(DurationText.self, forKey: .verdictTTL) ?? d.verdictTTL
        self = d
    }

    var clientOptions: ClamdClient.Options {
        get throws {
            ClamdClient.Options(address: try ClamdAddress(parsing: address), connectTimeout: connectTimeout.duration,
                                ioTimeout: timeout.duration, chunkBytes: chunkBytes, streamMaxLength: Int64(streamMaxLength),
                                connections: connections)
        }
    }
}
