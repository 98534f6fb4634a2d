import Foundation
import PressroomImaging
import PressroomQueue
import PressroomStorage
import PressroomSupport

#if canImport(Glibc)
import Glibc
#endif

/// A render's source on local disk instead of in memory: a file of its own in the spool
/// directory (the temp directory unless configured), `pressroom-source-<uuid>`, created
/// exclusively (`O_EXCL`) with mode 0600, filled by the store's streaming get (which stops at
/// the byte cap while the bytes arrive and hashes them as it writes them), scanned and decoded
/// from there, and removed when the job is done with it, whatever the outcome.
struct SourceSpool: Sendable {
    let file: URL

    /// What a filled spool holds: the byte count and the SHA-256 (hex) of the bytes written.
    struct Filled: Sendable {
        let file: URL
        let byteCount: Int64
        let sha256: String
    }

    /// Creating and removing files is blocking I/O: never on the cooperative pool.
    private static let files = BlockingThreadPool(name: "pressroom-source-spool", threads: 1)

    /// Creates the file, runs `body` with it, and removes the file after `body` returns or
    /// throws (a cancelled job included).
    static func using<T: Sendable>(directory: URL, _ body: (SourceSpool) async throws -> T) async throws -> T {
        let file = directory.appendingPathComponent("\(Imaging.sourceSpoolPrefix)\(UUID().uuidString)")
        try await files.run {
            let fd = open(file.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw JobError.transient("cannot create a source spool file in \(directory.path): \(String(cString: strerror(errno)))")
            }
            close(fd)
        }
        let spool = SourceSpool(file: file)
        let result: Result<T, Error>
        do {
            result = .success(try await body(spool))
        } catch {
            result = .failure(error)
        }
        // `run` is not cancellable: a cancelled job's file goes too.
        _ = try? await files.run { _ = unlink(file.path) }
        return try result.get()
    }

    /// Streams `key` from `store` into the file, refusing more than `maxBytes`.
    func fill(from store: any ObjectStore, key: String, maxBytes: Int64) async throws -> Filled {
        let metadata: ObjectMetadata
        do {
            metadata = try await store.get(key, toFile: file, maxBytes: maxBytes)
        } catch let error as ObjectStoreError where error.code == .notFound {
            throw JobError.permanent("source object '\(key)' does not exist")
        } catch let error as ObjectStoreError where error.code == .tooLarge {
            throw JobError.permanent("source '\(key)' is more than imaging.maxBytes (\(maxBytes)) bytes; its download was stopped there")
        } catch {
            throw JobFailure.classify(error, while: "reading \(key)")
        }
        guard let sha256 = metadata.checksumSHA256.flatMap(SourceIntake.hex(base64:)) else {
            throw JobError.transient("reading \(key): the store gave no SHA-256 of the bytes it wrote")
        }
        return Filled(file: file, byteCount: metadata.size, sha256: sha256)
    }
}
