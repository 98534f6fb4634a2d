import Foundation

/// Decodes a value through any `Decoder` (Yams, JSON) and reports the keys
/// the input holds that no type ever asked for: a typo such as `queus:` or
/// `claimMinIdl:` is an error instead of a silently ignored default.
///
/// It works for every `Decodable` type without lists of allowed keys: a key
/// counts as known when the type's `init(from:)` asked for it (`decode`,
/// `decodeIfPresent` or `contains`), at any depth, including dictionary and
/// array elements.
public enum StrictDecoding {
    /// A key no type knows, with the nearest key that type asked for.
    public struct UnknownKey: Error, Equatable, CustomStringConvertible {
        /// Path of the mapping holding the key (empty at the top level).
        public let path: [String]
        public let key: String
        /// The closest known key at that place, when one is close enough.
        public let suggestion: String?
        /// Every key known at that place.
        public let known: [String]

        public init(path: [String], key: String, suggestion: String?, known: [String]) {
            self.path = path
            self.key = key
            self.suggestion = suggestion
            self.known = known
        }

        /// `queues.derive.claimMinIdl`.
        public var field: String { (path + [key]).joined(separator: ".") }

        /// "unknown key `queus` at top level; did you mean `queues`?"
        public var description: String {
            let place = path.isEmpty ? "at top level" : "in `\(path.joined(separator: "."))`"
            if let suggestion { return "unknown key `\(key)` \(place); did you mean `\(suggestion)`?" }
            return "unknown key `\(key)` \(place) (known: \(known.joined(separator: ", ")))"
        }
    }

    /// Decodes `Value` through `decoder`, then throws the first unknown key
    /// (by path) if decoding itself succeeded.
    public static func decode<Value: Decodable>(_ type: Value.Type, from decoder: any Decoder) throws -> Value {
        let ledger = Ledger()
        let value = try Value(from: StrictDecoder(base: decoder, ledger: ledger))
        if let unknown = ledger.unknownKeys().first { throw unknown }
        return value
    }

    /// The unknown key behind an error thrown while decoding ``Strictly``, if that was the problem.
    public static func unknownKey(in error: any Error) -> UnknownKey? {
        if let unknown = error as? UnknownKey { return unknown }
        if case .dataCorrupted(let context)? = error as? DecodingError { return context.underlyingError.flatMap(unknownKey(in:)) }
        return nil
    }

    /// The known key nearest to `key`: same spelling but case, or within an
    /// edit distance of a third of its length (at least 2).
    public static func nearest(_ key: String, among known: some Collection<String>, maxDistance: Int? = nil) -> String? {
        if let same = known.first(where: { $0.lowercased() == key.lowercased() }) { return same }
        let limit = maxDistance ?? max(2, key.count / 3)
        let scored = known.map { ($0, distance(key.lowercased(), $0.lowercased())) }.filter { $0.1 <= limit }
        return scored.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// Which keys each mapping held and which of them were asked for, by path.
    final class Ledger {
        private var present: [[String]: Set<String>] = [:]
        private var asked: [[String]: Set<String>] = [:]

        func opened(_ path: [CodingKey], keys: [String]) {
            present[Self.name(path), default: []].formUnion(keys)
        }

        func asked(_ key: CodingKey, at path: [CodingKey]) {
            asked[Self.name(path), default: []].insert(key.stringValue)
        }

        func unknownKeys() -> [UnknownKey] {
            present.keys.sorted { $0.joined(separator: ".") < $1.joined(separator: ".") }.flatMap { path -> [UnknownKey] in
                let known = asked[path] ?? []
                return present[path]!.subtracting(known).sorted().map {
                    UnknownKey(path: path, key: $0, suggestion: StrictDecoding.nearest($0, among: known.sorted()), known: known.sorted())
                }
            }
        }

        static func name(_ path: [CodingKey]) -> [String] { path.map { $0.intValue.map(String.init) ?? $0.stringValue } }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) {
            self.stringValue = String(intValue)
            self.intValue = intValue
        }
    }

    /// Types the underlying decoder reads from one scalar its own way (Yams
    /// parses dates and URLs); handed to it whole, not through `init(from:)`.
    static func isLeaf<T>(_ type: T.Type) -> Bool {
        type == String.self || type == Bool.self || type == Int.self || type == Double.self || type == Int64.self
            || type == UInt64.self || type == Int32.self || type == UInt32.self || type == UInt16.self || type == UInt8.self
            || type == Float.self || type == Date.self || type == URL.self || type == Data.self || type == Decimal.self || type == UUID.self
    }
}

/// Decodes its `value` strictly, so any decoder that takes a type can be
/// strict: `try YAMLDecoder().decode(Strictly<ProductPolicy>.self, from: text).value`.
public struct Strictly<Value: Decodable>: Decodable {
    public let value: Value

    /// Throws an unknown key as a `DecodingError` (decoders such as Yams wrap
    /// any other error); ``StrictDecoding/unknownKey(in:)`` gets it back.
    public init(from decoder: any Decoder) throws {
        do {
            value = try StrictDecoding.decode(Value.self, from: decoder)
        } catch let unknown as StrictDecoding.UnknownKey {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: unknown.description, underlyingError: unknown))
        }
    }
}

/// Forwards to the real decoder, recording keys as containers open and fields are asked for.
private struct StrictDecoder: Decoder {
    let base: any Decoder
    let ledger: StrictDecoding.Ledger

    var codingPath: [CodingKey] { base.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { base.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let typed = try base.container(keyedBy: type)
        let all = (try? base.container(keyedBy: StrictDecoding.AnyKey.self))?.allKeys.map(\.stringValue) ?? typed.allKeys.map(\.stringValue)
        ledger.opened(codingPath, keys: all)
        return KeyedDecodingContainer(StrictKeyedContainer(base: typed, ledger: ledger))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        StrictUnkeyedContainer(base: try base.unkeyedContainer(), ledger: ledger)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        StrictSingleValueContainer(decoder: self, base: try base.singleValueContainer())
    }
}

private struct StrictKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let base: KeyedDecodingContainer<Key>
    let ledger: StrictDecoding.Ledger

    var codingPath: [CodingKey] { base.codingPath }
    var allKeys: [Key] { base.allKeys }

    private func ask(_ key: Key) { ledger.asked(key, at: codingPath) }

    func contains(_ key: Key) -> Bool {
        ask(key)
        return base.contains(key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        ask(key)
        return try base.decodeNil(forKey: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        ask(key)
        if StrictDecoding.isLeaf(type) { return try base.decode(type, forKey: key) }
        return try T(from: StrictDecoder(base: try base.superDecoder(forKey: key), ledger: ledger))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        ask(key)
        return try StrictDecoder(base: try base.superDecoder(forKey: key), ledger: ledger).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        ask(key)
        return StrictUnkeyedContainer(base: try base.nestedUnkeyedContainer(forKey: key), ledger: ledger)
    }

    func superDecoder() throws -> any Decoder {
        StrictDecoder(base: try base.superDecoder(), ledger: ledger)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ask(key)
        return StrictDecoder(base: try base.superDecoder(forKey: key), ledger: ledger)
    }
}

private struct StrictUnkeyedContainer: UnkeyedDecodingContainer {
    var base: any UnkeyedDecodingContainer
    let ledger: StrictDecoding.Ledger

    var codingPath: [CodingKey] { base.codingPath }
    var count: Int? { base.count }
    var isAtEnd: Bool { base.isAtEnd }
    var currentIndex: Int { base.currentIndex }

    mutating func decodeNil() throws -> Bool { try base.decodeNil() }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if StrictDecoding.isLeaf(type) { return try base.decode(type) }
        return try T(from: StrictDecoder(base: try base.superDecoder(), ledger: ledger))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try StrictDecoder(base: try base.superDecoder(), ledger: ledger).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        StrictUnkeyedContainer(base: try base.nestedUnkeyedContainer(), ledger: ledger)
    }

    mutating func superDecoder() throws -> any Decoder {
        StrictDecoder(base: try base.superDecoder(), ledger: ledger)
    }
}

private struct StrictSingleValueContainer: SingleValueDecodingContainer {
    let decoder: StrictDecoder
    let base: any SingleValueDecodingContainer

    var codingPath: [CodingKey] { base.codingPath }

    func decodeNil() -> Bool { base.decodeNil() }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if StrictDecoding.isLeaf(type) { return try base.decode(type) }
        return try T(from: decoder)
    }
}
