import Foundation

/// Loads a policy's `watermark.image` when the catalog loads, so a missing or broken file is a
/// policy error at startup (not a failed job later) and its bytes can go into the digest.
enum WatermarkImage {
    /// Largest accepted file: watermarks are small logos, and the bytes are kept in memory.
    static let maximumBytes = 16 << 20

    static func load(_ name: String, directory: URL) throws(ImagingError) -> Data {
        guard !name.contains("/"), !name.hasPrefix(".") else {
            throw ImagingError(.policyInvalid, "'\(name)' must be a file name inside \(directory.path)")
        }
        let url = directory.appendingPathComponent(name)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImagingError(.policyInvalid, "cannot read \(url.path): \(error.localizedDescription)")
        }
        guard data.count <= maximumBytes else {
            throw ImagingError(.policyInvalid, "\(name) is \(data.count) bytes; the limit is \(maximumBytes)")
        }
        // Decode it fully now: a truncated or non-image file must fail here, not in every derive.
        do {
            try Imaging.startVips()
            let image = try VipsImage.open(data, sequential: false)
            _ = try image.materialized()
        } catch {
            throw ImagingError(.policyInvalid, "\(name) is not a readable image: \(error.message)")
        }
        return data
    }
}
