import Crypto
import Foundation
import Logging
import PressroomSupport

#if canImport(Glibc)
import Glibc
#endif

/// Objects as files under a root directory: the quick-start store.
///
/// Layout: `objects/<key>` holds the bytes, `meta/<key>.json` the content type
/// and SHA-256, `tmp/` the writes in progress. A write goes to a temporary
/// file that is fsynced and then `link(2)`ed into place: `link` fails if the
/// name exists, which makes the write create-only, and a crash leaves at most
/// a stray temporary file, never a partial object.
public final class FileSystemObjectStore: ObjectStore {
    private let root: URL
    private let objects: String
    private let meta: String
    private let tmp: String
    private let pool: BlockingThreadPool
    private let logger: Logger

    public init(configuration: FileSystemStoreConfiguration, logger: Logger) throws {
        let root = URL(fileURLWithPath: configuration.root, isDirectory: true).standardizedFileURL
        self.root = root
        self.objects = root.appendingPathComponent("objects").path
        self.meta = root.appendingPathComponent("meta").path
        self.tmp = root.appendingPathComponent("tmp").path
        self.logger = logger
        for dir in [objects, meta, tmp] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw ObjectStoreError(.invalidConfiguration, "cannot create store directory \(dir): \(error.localizedDescription)")
            }
        }
        self.pool = BlockingThreadPool(name: "pressroom-fs-store", threads: max(1, configuration.ioThreads))
        removeStaleTemporaryFiles()
    }

    /// Temporary files older than a day are what a crash mid-write left
    /// behind (a live write takes seconds); they never became objects.
    private func removeStaleTemporaryFiles() {
        let cutoff = Date().addingTimeInterval(-86_400)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmp) else { return }
        for name in names {
            let path = tmp + "/" + name
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff {
                unlink(path)
                logger.info("removed a stale temporary file from an interrupted write", metadata: ["path": "\(path)"])
            }
        }
    }

    deinit {
        pool.shutdown()
    }

    // MARK: ObjectStore

    public func get(_ key: String) async throws -> Data {
        let path = try objectPath(key)
        return try await pool.run {
            let fd = try Self.openForReading(path, key: key)
            defer { close(fd) }
            var data = Data()
            try Self.readAll(fd: fd, path: path) { data.append($0) }
            return data
        }
    }

    /// Copied a block at a time and hashed as it is written; the size is
    /// checked before the first byte and again as the bytes are copied.
    public func get(_ key: String, toFile file: URL, maxBytes: Int64?) async throws -> ObjectMetadata {
        let path = try objectPath(key)
        let metaPath = try metadataPath(key)
        return try await pool.run {
            let fd = try Self.openForReading(path, key: key)
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw Self.ioError("stat \(path)") }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw ObjectStoreError(.notFound, "no object \(key)") }
            if let maxBytes, Int64(st.st_size) > maxBytes { throw Self.tooLarge(key, maxBytes) }
            let out = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard out >= 0 else { throw Self.ioError("open \(file.path) for writing") }
            defer { close(out) }
            var hasher = SHA256()
            var written: Int64 = 0
            try Self.readAll(fd: fd, path: path) { chunk in
                written += Int64(chunk.count)
                if let maxBytes, written > maxBytes { throw Self.tooLarge(key, maxBytes) }
                hasher.update(data: chunk)
                try Self.writeAll(fd: out, chunk, path: file.path)
            }
            let modified = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec) + TimeInterval(st.st_mtim.tv_nsec) / 1e9)
            return ObjectMetadata(key: key, size: written, contentType: Self.readSidecar(metaPath)?.contentType,
                                  checksumSHA256: Data(hasher.finalize()).base64EncodedString(), lastModified: modified)
        }
    }

    private static func tooLarge(_ key: String, _ maxBytes: Int64) -> ObjectStoreError {
        ObjectStoreError(.tooLarge, "object \(key) is longer than \(maxBytes) bytes")
    }

    public func head(_ key: String) async throws -> ObjectMetadata? {
        let path = try objectPath(key)
        let metaPath = try metadataPath(key)
        return try await pool.run {
            var st = stat()
            guard lstat(path, &st) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw Self.ioError("stat \(path)")
            }
            guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            let stored = Self.readSidecar(metaPath)
            let checksum = try stored?.sha256 ?? Self.checksum(ofFile: path)
            let modified = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec) + TimeInterval(st.st_mtim.tv_nsec) / 1e9)
            return ObjectMetadata(key: key, size: Int64(st.st_size), contentType: stored?.contentType, checksumSHA256: checksum, lastModified: modified)
        }
    }

    public func putIfAbsent(_ key: String, data: Data, contentType: String) async throws -> PutOutcome {
        let path = try objectPath(key)
        let metaPath = try metadataPath(key)
        let tmpDir = tmp
        return try await pool.run {
            let checksum = Data(SHA256.hash(data: data)).base64EncodedString()
            let temp = try Self.writeTemp(in: tmpDir) { fd, tempPath in
                try Self.writeAll(fd: fd, data, path: tempPath)
            }
            return try Self.commit(temp: temp, to: path, metaPath: metaPath, key: key, checksum: checksum, contentType: contentType)
        }
    }

    /// The file is copied to a temp file while hashed (a given `sha256` is
    /// checked against that hash before the link, so a wrong one stores nothing).
    public func putIfAbsent(_ key: String, file: URL, contentType: String, sha256: String?) async throws -> PutOutcome {
        let path = try objectPath(key)
        let metaPath = try metadataPath(key)
        let given = try sha256.map { try KnownSHA256.digest(hex: $0).base64EncodedString() }
        let tmpDir = tmp
        return try await pool.run {
            let source = try Self.openForReading(file.path, key: nil)
            defer { close(source) }
            var hasher = SHA256()
            let temp = try Self.writeTemp(in: tmpDir) { fd, tempPath in
                try Self.readAll(fd: source, path: file.path) { chunk in
                    hasher.update(data: chunk)
                    try Self.writeAll(fd: fd, chunk, path: tempPath)
                }
            }
            let checksum = Data(hasher.finalize()).base64EncodedString()
            if let given, given != checksum {
                unlink(temp)
                throw KnownSHA256.mismatch(key, actual: checksum, given: given)
            }
            return try Self.commit(temp: temp, to: path, metaPath: metaPath, key: key, checksum: checksum, contentType: contentType)
        }
    }

    public func delete(_ key: String) async throws {
        let path = try objectPath(key)
        let metaPath = try metadataPath(key)
        try await pool.run {
            if unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR {
                throw Self.ioError("unlink \(path)")
            }
            _ = unlink(metaPath)
        }
    }

    public func list(prefix: String, limit: Int?) async throws -> [ObjectMetadata] {
        let keys = try await listKeys(prefix: prefix, limit: limit)
        var result: [ObjectMetadata] = []
        for key in keys {
            if let metadata = try await head(key) { result.append(metadata) }
        }
        return result
    }

    /// A directory walk sorted in S3's order, then the page after `cursor`.
    public func listPage(prefix: String, after cursor: String?, limit: Int) async throws -> ObjectListPage {
        var keys = try await listKeys(prefix: prefix, limit: nil)
        if let cursor {
            let after = Array(cursor.utf8)
            keys = keys.filter { after.lexicographicallyPrecedes(Array($0.utf8)) }
        }
        let page = Array(keys.prefix(limit))
        var objects: [ObjectMetadata] = []
        for key in page {
            if let metadata = try await head(key) { objects.append(metadata) }
        }
        return ObjectListPage(objects: objects, next: keys.count > limit ? page.last : nil)
    }

    /// Links the source's file into place under the new key (same bytes, same checksum).
    public func copyIfAbsent(from source: String, to destination: String) async throws -> PutOutcome {
        guard let metadata = try await head(source) else { throw ObjectStoreError(.notFound, "copy \(source): no such object") }
        return try await putIfAbsent(destination, file: URL(fileURLWithPath: try objectPath(source)),
                                     contentType: metadata.contentType ?? "application/octet-stream")
    }

    /// Tags live in the object's metadata sidecar.
    public func setTags(_ key: String, _ tags: [String: String]) async throws {
        let path = try objectPath(key)
        let metaPath = try metadataPath(key)
        try await pool.run {
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw ObjectStoreError(.notFound, "no object \(key)") }
            var sidecar = try Self.readSidecar(metaPath) ?? Sidecar(contentType: "application/octet-stream", sha256: Self.checksum(ofFile: path))
            sidecar.tags = tags
            try Self.writeSidecar(sidecar, to: metaPath)
        }
    }

    public func tags(_ key: String) async throws -> [String: String] {
        let path = try objectPath(key)
        let metaPath = try metadataPath(key)
        return try await pool.run {
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw ObjectStoreError(.notFound, "no object \(key)") }
            return Self.readSidecar(metaPath)?.tags ?? [:]
        }
    }

    private func listKeys(prefix: String, limit: Int?) async throws -> [String] {
        let objects = self.objects
        return try await pool.run {
            var keys: [String] = []
            guard let enumerator = FileManager.default.enumerator(atPath: objects) else {
                throw ObjectStoreError(.io, "cannot list \(objects)")
            }
            while let relative = enumerator.nextObject() as? String {
                guard relative.hasPrefix(prefix) || prefix.hasPrefix(relative) else {
                    if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeDirectory {
                        enumerator.skipDescendants()
                    }
                    continue
                }
                if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular, relative.hasPrefix(prefix) {
                    keys.append(relative)
                }
            }
            // S3 orders keys by UTF-8 bytes; Swift's String `<` compares by
            // Unicode scalars, which gives the same order for valid UTF-8.
            keys.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            if let limit { keys = Array(keys.prefix(limit)) }
            return keys
        }
    }

    /// A `file://` URL for GET (local tools and tests can read it; there is no
    /// expiry on a local file). PUT URLs are not supported.
    public func presignedURL(for key: String, method: PresignMethod, expiresIn: Duration) async throws -> URL {
        let path = try objectPath(key)
        guard method == .get else {
            throw ObjectStoreError(.unsupported, "the filesystem store cannot presign \(method.rawValue) URLs")
        }
        return URL(fileURLWithPath: path)
    }

    // MARK: Paths

    /// The object's path, after checking the key and that no directory on the
    /// way is a symlink (which could point outside the root).
    private func objectPath(_ key: String) throws -> String {
        try ObjectKey.validate(key)
        try rejectSymlinks(base: objects, key: key)
        return objects + "/" + key
    }

    private func metadataPath(_ key: String) throws -> String {
        try rejectSymlinks(base: meta, key: key)
        return meta + "/" + key + ".json"
    }

    private func rejectSymlinks(base: String, key: String) throws {
        var path = base
        for segment in key.split(separator: "/") {
            path += "/" + segment
            var st = stat()
            if lstat(path, &st) != 0 { return }
            if (st.st_mode & S_IFMT) == S_IFLNK {
                throw ObjectStoreError(.invalidKey, "object key \(key) passes through a symlink in the store; refusing to follow it")
            }
        }
    }

    // MARK: Blocking helpers (run on the pool)

    private struct Sidecar: Codable {
        var contentType: String
        var sha256: String
        var tags: [String: String]?
    }

    private static func writeSidecar(_ sidecar: Sidecar, to metaPath: String) throws {
        let data = try JSONEncoder().encode(sidecar)
        try makeParents(of: metaPath)
        let metaTemp = metaPath + ".tmp-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: metaTemp, contents: data), rename(metaTemp, metaPath) == 0 else {
            unlink(metaTemp)
            throw ioError("write metadata \(metaPath)")
        }
    }

    private static func readSidecar(_ path: String) -> Sidecar? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Sidecar.self, from: data)
    }

    private static func commit(temp: String, to path: String, metaPath: String, key: String, checksum newChecksum: String, contentType: String) throws -> PutOutcome {
        defer { unlink(temp) }
        try makeParents(of: path)
        if link(temp, path) == 0 {
            // Only the writer that won the link writes the sidecar, so it
            // always describes the bytes in place.
            try writeSidecar(Sidecar(contentType: contentType, sha256: newChecksum), to: metaPath)
            try fsyncDirectory(of: path)
            return .created
        }
        guard errno == EEXIST else { throw ioError("link \(path)") }
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw ObjectStoreError(.conflict, "object key \(key) is a directory prefix of other keys in the filesystem store")
        }
        let existing = try readSidecar(metaPath)?.sha256 ?? Self.checksum(ofFile: path)
        if existing == newChecksum { return .alreadyExists }
        throw ObjectStoreError(.conflict, "object \(key) already exists with different content (sha256 \(existing), new \(newChecksum))")
    }

    private static func writeTemp(in dir: String, _ body: (Int32, String) throws -> Void) throws -> String {
        let path = dir + "/put-\(UUID().uuidString)"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("create \(path)") }
        do {
            try body(fd, path)
            guard fsync(fd) == 0 else { throw ioError("fsync \(path)") }
            close(fd)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        return path
    }

    private static func makeParents(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw ObjectStoreError(.conflict, "cannot create directory \(parent) (an object may exist under a prefix of the key): \(error.localizedDescription)")
        }
    }

    private static func fsyncDirectory(of path: String) throws {
        let fd = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("open directory of \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ioError("fsync directory of \(path)") }
    }

    private static func openForReading(_ path: String, key: String?) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if let key, errno == ENOENT || errno == ENOTDIR || errno == EISDIR {
                throw ObjectStoreError(.notFound, "no object \(key)")
            }
            throw ioError("open \(path)")
        }
        return fd
    }

    private static func readAll(fd: Int32, path: String, _ sink: (Data) throws -> Void) throws {
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("read \(path)")
            }
            if n == 0 { return }
            try sink(Data(bytesNoCopy: buffer, count: n, deallocator: .none))
        }
    }

    private static func writeAll(fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError("write \(path)")
                }
                offset += n
            }
        }
    }

    private static func checksum(ofFile path: String) throws -> String {
        let fd = try openForReading(path, key: nil)
        defer { close(fd) }
        var hasher = SHA256()
        try readAll(fd: fd, path: path) { hasher.update(data: $0) }
        return Data(hasher.finalize()).base64EncodedString()
    }

    private static func ioError(_ what: String) -> ObjectStoreError {
        let code = errno
        return ObjectStoreError(.io, "\(what): \(String(cString: strerror(code)))")
    }
}
