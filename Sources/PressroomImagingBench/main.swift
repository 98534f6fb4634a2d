// Times Pressroom's derive and render on one image, for bench/imaging.
// Usage: PressroomImagingBench OPERATION IMAGE POLICIES_DIR ITERATIONS
// OPERATION: derive | render-rgb | render-cmyk | render-4x6 | render-a2 | render-large (canvas-20x30,
// a policy bench/imaging adds) (also probe | inspect, for breakdowns). Prints one line:
// `pressroom OPERATION median_ms=… min_ms=… peak_rss_kb=…`.
// OPERATION preview writes the preview render verification compares with to $PRESSROOM_BENCH_PREVIEW;
// the render operations read it from there when set, so their peak RSS is the render's alone.
// The render operations read IMAGE as a render job reads its spooled source: from the file,
// never loaded into memory (their SHA-256 is taken once, outside the timing).
// OPERATION shapes: the CPU time the degenerate-shape fixtures (strips under maxPixels) cost each,
// beside one derive of IMAGE (a normal upload), one line per shape.
import Foundation
import Logging
import PressroomImaging

let arguments = CommandLine.arguments
guard arguments.count == 5, let iterations = Int(arguments[4]), iterations > 0 else {
    FileHandle.standardError.write(Data("usage: PressroomImagingBench derive|render-rgb|render-cmyk IMAGE POLICIES_DIR ITERATIONS\n".utf8))
    exit(2)
}
let operation = arguments[1]
let sourceFile = URL(fileURLWithPath: arguments[2])
// The bytes, for the operations that take them (derive, probe, inspect); a render reads the file.
let source = operation.hasPrefix("render-") ? Data() : try Data(contentsOf: sourceFile)
let catalog = try PolicyCatalog.load(directory: URL(fileURLWithPath: arguments[3]))
let imaging = try Imaging(configuration: ImagingConfiguration(blockingThreads: 1), logger: Logger(label: "bench"))
// The preview the render verification compares with (made once, outside the timing).
let previewFile = ProcessInfo.processInfo.environment["PRESSROOM_BENCH_PREVIEW"].map { URL(fileURLWithPath: $0) }
if operation == "preview" {
    guard let previewFile, let bytes = try await imaging.derive(source: source, catalog: catalog).output(policy: "preview")?.data else {
        FileHandle.standardError.write(Data("preview: set PRESSROOM_BENCH_PREVIEW to the file to write\n".utf8))
        exit(2)
    }
    try bytes.write(to: previewFile)
    exit(0)
}
var preview: Data?
var sourceSHA256 = ""
if operation.hasPrefix("render-") {
    if let previewFile {
        preview = try Data(contentsOf: previewFile)
    } else {
        preview = try await imaging.derive(source: try Data(contentsOf: sourceFile), catalog: catalog).output(policy: "preview")?.data
    }
    sourceSHA256 = try Imaging.sha256(file: sourceFile)
}

/// Renders one master from the file and removes its spool file, as the render job does once it is stored.
func render(_ policy: String) async throws -> Int {
    let result = try await imaging.render(sourceFile: sourceFile, sourceSHA256: sourceSHA256, policy: catalog.policy(named: policy), crop: nil, preview: preview)
    try FileManager.default.removeItem(at: result.master.file)
    return result.master.byteCount
}

/// Process CPU (user + system, all threads) in milliseconds.
func cpuMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
    return ms(usage.ru_utime) + ms(usage.ru_stime)
}

if operation == "shapes" {
    let fixtures = URL(fileURLWithPath: "Tests/PressroomImagingTests/Fixtures")
    var start = cpuMilliseconds()
    _ = try await imaging.derive(source: source, catalog: catalog)
    let reference = cpuMilliseconds() - start
    for shape in ["1x4000000", "4000000x1", "2x2000000"] {
        let strip = try Data(contentsOf: fixtures.appendingPathComponent("strip-\(shape).png"))
        start = cpuMilliseconds()
        var outcome = "accepted"
        // What a derive job, `pressroom inspect` and a render job would each spend on the upload.
        for attempt in 0..<3 {
            do {
                switch attempt {
                case 0: _ = try await imaging.derive(source: strip, catalog: catalog)
                case 1: _ = try await imaging.inspect(source: strip, catalog: catalog)
                default:
                    let result = try await imaging.render(source: strip, policy: catalog.policy(named: "print-4x6"), crop: nil, preview: nil)
                    try FileManager.default.removeItem(at: result.master.file)
                }
            } catch let error as ImagingError {
                outcome = error.code.rawValue
            }
        }
        print(String(format: "pressroom shape %@ derive+inspect+render cpu_ms=%.2f outcome=%@ (a normal derive of the bench photo: cpu_ms=%.1f)",
                     shape, cpuMilliseconds() - start, outcome, reference))
    }
    // The most extreme shape still accepted (aspect 20:1, 3.2 MP): its cost follows its pixels.
    let edge = try VipsImage.fromPixels([UInt8](repeating: 128, count: 400 * 8000), width: 400, height: 8000, bands: 1).encoded(.png(compression: 6))
    start = cpuMilliseconds()
    _ = try await imaging.derive(source: edge, catalog: catalog)
    _ = try await imaging.inspect(source: edge, catalog: catalog)
    print(String(format: "pressroom shape 400x8000 derive+inspect cpu_ms=%.1f outcome=accepted (a normal derive of the bench photo: cpu_ms=%.1f)",
                 cpuMilliseconds() - start, reference))
    exit(0)
}

func runOnce() async throws -> Int {
    switch operation {
    case "derive":
        return try await imaging.derive(source: source, catalog: catalog).outputs.reduce(0) { $0 + $1.data.count }
    case "probe":
        return try await imaging.probe(source).byteCount
    case "inspect":
        return try await imaging.inspect(source: source, catalog: catalog).products.count
    case "render-rgb": return try await render("canvas-16x20")
    case "render-cmyk": return try await render("photobook-page")
    case "render-4x6": return try await render("print-4x6")
    case "render-a2": return try await render("poster-a2")
    case "render-large": return try await render("canvas-20x30")
    default:
        throw ImagingError(.internal, "unknown operation \(operation)")
    }
}

var times: [Double] = []
var bytes = 0
for _ in 0..<iterations {
    let start = ContinuousClock.now
    bytes = try await runOnce()
    let elapsed = ContinuousClock.now - start
    times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
}
times.sort()
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
print(String(format: "pressroom %@ median_ms=%.1f min_ms=%.1f peak_rss_kb=%ld bytes=%d", operation, times[times.count / 2], times[0], usage.ru_maxrss, bytes))
