import Foundation

/// Process-wide libvips settings and per-input limits.
public struct ImagingConfiguration: Sendable, Equatable {
    /// libvips worker threads per pipeline (0: libvips' default, the number of cores).
    public var vipsConcurrency: Int
    /// Operation cache bounds. A worker sees each image once, so the cache gains
    /// little — and libvips matches cached buffer loads by address and length, so a
    /// new upload reusing a freed buffer's address could hit a stale entry. Off by default.
    public var cacheMaxOperations: Int
    public var cacheMaxMemory: Int
    public var cacheMaxFiles: Int
    /// Inputs larger than this are rejected before decoding.
    public var maxBytes: Int
    /// Header dimensions above this (width × page height) are rejected before decoding.
    public var maxPixels: Int
    /// Threads of the pool that runs libvips calls, when the caller does not pass one.
    public var blockingThreads: Int
    /// Images whose shorter side (in pixels, per page) is below this are rejected before decoding:
    /// a 1×4,000,000 strip is under `maxPixels` yet costs libvips per row, not per pixel.
    public var minShortSide: Int
    /// Images whose long side exceeds this many times the short side are rejected before decoding.
    public var maxAspectRatio: Double
    /// Bytes of one canvas row (width × bands × sample size) that a print master's libvips
    /// threads may span between them; a master with wider rows renders with fewer threads, at
    /// least one (0: every master gets `vipsConcurrency`). Each thread holds strips of the full
    /// width in every step of the pipeline, so without this a 20×30 in CMYK canvas (36 KB a row)
    /// took 4–5 MB more per thread than a 4×6 print; the pixels are the same either way.
    public var masterRowBudget: Int
    /// Where print masters are encoded to before they are stored (one file per render, removed
    /// by whoever stores it): masters stream to disk instead of memory.
    public var spoolDirectory: URL

    public init(
        vipsConcurrency: Int = 0,
        cacheMaxOperations: Int = 0,
        cacheMaxMemory: Int = 64 << 20,
        cacheMaxFiles: Int = 0,
        maxBytes: Int = 64 << 20,
        maxPixels: Int = 100_000_000,
        blockingThreads: Int = 2,
        minShortSide: Int = 8,
        maxAspectRatio: Double = 20,
        masterRowBudget: Int = 32 << 10,
        spoolDirectory: URL = FileManager.default.temporaryDirectory
    ) {
        self.vipsConcurrency = vipsConcurrency
        self.cacheMaxOperations = cacheMaxOperations
        self.cacheMaxMemory = cacheMaxMemory
        self.cacheMaxFiles = cacheMaxFiles
        self.maxBytes = maxBytes
        self.maxPixels = maxPixels
        self.blockingThreads = blockingThreads
        self.minShortSide = minShortSide
        self.maxAspectRatio = maxAspectRatio
        self.masterRowBudget = masterRowBudget
        self.spoolDirectory = spoolDirectory
    }
}
