import CVipsShims
import Foundation
import Logging
import PressroomColor
import PressroomSupport
import Synchronization

/// The image pipeline: probe, derive, render and verify, on libvips and lcms2.
///
/// A pure library — bytes and policies in, keyed outputs and reports out; it
/// knows nothing of queues or storage. Every libvips call is blocking CPU work,
/// so the async entry points run it on a `BlockingThreadPool`, never on Swift's
/// cooperative pool.
public final class Imaging: Sendable {
    /// Deletes masters' spool files and spooled sources (``sourceSpoolPrefix``) older than `age`
    /// from `directory` (see ``ImagingConfiguration/spoolDirectory``): a render killed mid-way
    /// leaves its files behind. The daemon runs it at start. Returns how many went.
    @discardableResult
    public static func removeStaleSpoolFiles(in directory: URL, olderThan age: Duration) -> Int {
        SpoolWriter.removeStale(in: directory, olderThan: Double(age.components.seconds))
    }

    /// The name prefix of a render job's spooled source in the spool directory.
    public static let sourceSpoolPrefix = "pressroom-source-"

    /// Bumped when the pipeline's output for the same input and policy changes; part of every key.
    /// 2 since derivatives decode JPEGs at the smallest scale covering the largest derivative,
    /// keep untagged sRGB pixels as they are (version 1 tinted them, see `decodeRGB`) and make
    /// the thumbnail from the report's analysis image: other bytes, so stored version-1
    /// derivatives are never taken for conflicting ones.
    public static let pipelineVersion = 2
    /// The same for print masters alone (part of their keys): 2 since masters are resampled once,
    /// not twice, so a master stored by version 1 is never mistaken for a conflicting one; 3
    /// since TIFF masters are written in 16-row strips (same pixels, other bytes).
    public static let masterVersion = 3

    public let configuration: ImagingConfiguration
    let pool: BlockingThreadPool
    /// Print masters (render, verify) run on threads of their own, so an
    /// upload's derive never waits in line behind a backlog of masters.
    let masterPool: BlockingThreadPool
    private let ownsPool: Bool
    let logger: Logger
    /// lcms2 context for validating embedded profiles (its own error handler).
    let colorContext = ColorContext()
    /// Gamut checkers by profile and intent: expensive to build, cheap and thread-safe to use.
    private let gamutCheckers = Mutex<[String: GamutChecker]>([:])

    private static let started = Mutex(false)

    /// Starts libvips once per process and applies the limits. Later calls only re-apply
    /// the limits, which are process-wide in libvips.
    public static func bootstrap(_ configuration: ImagingConfiguration) throws(ImagingError) {
        let result: Result<Void, ImagingError> = started.withLock { started in
            if case .failure(let error) = start(&started) { return .failure(error) }
            pressroom_vips_configure(
                Int32(configuration.vipsConcurrency), Int32(configuration.cacheMaxOperations),
                configuration.cacheMaxMemory, Int32(configuration.cacheMaxFiles))
            return .success(())
        }
        try result.get()
    }

    /// Starts libvips without touching the limits, for loading a catalog (watermark images are
    /// decoded then) before or without a pipeline; `bootstrap` still applies the limits later.
    /// Every `VipsImage` root calls it first: libvips' own lazy start (`vips_check_init`) is not
    /// thread-safe, and a second thread finds it "started" while types are still being
    /// registered (a CI run aborted in `vips_block_untrusted_set` that way).
    static func startVips() throws(ImagingError) {
        try started.withLock { start(&$0) }.get()
    }

    private static func start(_ started: inout Bool) -> Result<Void, ImagingError> {
        if !started {
            guard pressroom_vips_init("pressroom") == 0 else {
                return .failure(VipsError.take(.internal, "libvips failed to start"))
            }
            started = true
        }
        return .success(())
    }

    /// - Parameters:
    ///   - pool: threads for libvips calls; when nil the pipeline makes its own
    ///     (`configuration.blockingThreads` for probes and derives, as many
    ///     again for masters) and stops them on deinit. A given pool runs both.
    public init(configuration: ImagingConfiguration = ImagingConfiguration(), pool: BlockingThreadPool? = nil, logger: Logger) throws(ImagingError) {
        try Imaging.bootstrap(configuration)
        self.configuration = configuration
        self.pool = pool ?? BlockingThreadPool(name: "imaging", threads: max(1, configuration.blockingThreads))
        self.masterPool = pool ?? BlockingThreadPool(name: "imaging-masters", threads: max(1, configuration.blockingThreads))
        self.ownsPool = pool == nil
        self.logger = logger
    }

    deinit {
        if ownsPool {
            pool.shutdown()
            masterPool.shutdown()
        }
    }

    /// Reads the header: format (by content), size, orientation, pages, profile; enforces the caps.
    public func probe(_ data: Data) async throws -> ImageProbe {
        try await run { try self.probeSync(.bytes(data)) }
    }

    /// Thumbnail, preview(s) and quality report for a new upload.
    public func derive(source: Data, catalog: PolicyCatalog) async throws -> DeriveResult {
        try await run { try self.deriveSync(source: source, catalog: catalog) }
    }

    /// The quality report alone (what `pressroom inspect` prints).
    public func inspect(source: Data, catalog: PolicyCatalog) async throws -> QualityReport {
        try await run { try self.inspectSync(source: source, catalog: catalog) }
    }

    /// Renders and verifies a print master. `preview` is the derived preview (from `derive`);
    /// when given, the master must match it once downscaled (catches wrong orientation or crop).
    /// The master is a file in `configuration.spoolDirectory` that the caller stores and removes.
    public func render(source: Data, policy: ResolvedPolicy, crop: CropRect?, preview: Data?) async throws -> RenderResult {
        try await render(.bytes(source), sourceSHA256: nil, policy: policy, crop: crop, preview: preview)
    }

    /// The same from a file (a render job's spooled source): libvips reads it where it lies, so
    /// the encoded source is never in memory whole. The probe's checks (byte and pixel caps,
    /// shape, format by content, a complete JPEG) read the file before anything decodes it.
    /// `sourceSHA256` is the file's SHA-256 in hex (the caller hashed it as it wrote it): the
    /// first part of the master's key.
    public func render(sourceFile: URL, sourceSHA256: String, policy: ResolvedPolicy, crop: CropRect?, preview: Data?) async throws -> RenderResult {
        try await render(.file(sourceFile), sourceSHA256: sourceSHA256, policy: policy, crop: crop, preview: preview)
    }

    private func render(_ source: EncodedSource, sourceSHA256: String?, policy: ResolvedPolicy, crop: CropRect?, preview: Data?) async throws -> RenderResult {
        try await run(on: masterPool, background: true) {
            try self.renderSync(source: source, sha256: sourceSHA256, policy: policy, crop: crop, preview: preview)
        }
    }

    /// Verifies a master file rendered elsewhere (or earlier) against its policy and preview.
    /// The preview's aspect stands in for the source's, so geometry can be recomputed.
    public func verify(master: URL, policy: ResolvedPolicy, crop: CropRect?, preview: Data) async throws -> VerificationResult {
        try await run(on: masterPool, background: true) {
            let header = try VipsImage.open(preview, sequential: false)
            let plan = try RenderPlan(imageWidth: header.width, imageHeight: header.height, policy: policy.policy, crop: crop)
            return try self.verifySync(master: master, policy: policy, plan: plan, preview: preview)
        }
    }

    /// Runs pipeline work on the pool's threads, never on the cooperative pool. Cancelling the
    /// calling task (a job's timeout, a shutdown) stops the libvips work at its next tile, so the
    /// thread, the core and the job's lane slot are free again at once; the call then throws
    /// `CancellationError`, never an image error the job would misreport as bad input.
    ///
    /// `background` work (print masters and their verification) pauses between tiles while
    /// foreground work (derives, probes: what a customer waits for) runs in this process, so
    /// a backlog of masters does not slow previews down; the pause is bounded per tile.
    func run<T: Sendable>(on threads: BlockingThreadPool? = nil, background: Bool = false,
                          _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let cancellation = VipsCancellation(yieldsToForeground: background)
        return try await (threads ?? pool).runCancellable({
            guard !cancellation.isFired else { throw CancellationError() }
            if !background { pressroom_foreground_enter() }
            defer { if !background { pressroom_foreground_leave() } }
            do {
                return try VipsCancellation.$current.withValue(cancellation) { try body() }
            } catch where cancellation.isFired {
                self.logger.info("image work stopped: its job was cancelled", metadata: ["error": "\(error)"])
                throw CancellationError()
            }
        }, onCancel: { cancellation.fire() })
    }

    /// The shared gamut checker for an output profile (built on first use).
    func gamutChecker(for profile: OutputProfile, intent: RenderingIntent) throws(ImagingError) -> GamutChecker {
        let key = "\(profile.vipsName)|\(intent.rawValue)|\(profile.data?.count ?? 0)"
        if let cached = gamutCheckers.withLock({ $0[key] }) { return cached }
        let checker: GamutChecker
        do {
            checker = try GamutChecker(source: .sRGB, press: profile.source, intent: intent)
        } catch {
            throw ImagingError(.badProfile, "\(profile.name): \(error.message)")
        }
        gamutCheckers.withLock { $0[key] = checker }
        return checker
    }

    /// Hex SHA-256 of the source bytes: the first part of every key.
    public static func sha256(_ data: Data) -> String {
        SHA256Hex.digest(data)
    }

    /// The same for a file, read a block at a time (never whole).
    public static func sha256(file: URL) throws(ImagingError) -> String {
        try SpoolWriter.hash(file: file)
    }

    /// The key `derive` writes for a derivative policy (e.g. to fetch the preview a render verifies against).
    public static func derivedKey(sourceSHA256: String, policy: ResolvedPolicy) -> String {
        "derived/\(sourceSHA256)/\(policy.name)-\(policy.shortDigest)-v\(pipelineVersion).\(policy.policy.output.encoder.fileExtension)"
    }
}
