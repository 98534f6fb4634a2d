import CVipsShims

/// Turns libvips' shared error buffer into an `ImagingError`.
enum VipsError {
    /// Copies and clears libvips' error buffer at once: it is process-wide and
    /// the next failing call on any thread appends to it.
    static func take(_ code: ImagingError.Code, _ what: String) -> ImagingError {
        let message = vips_error_buffer().map { String(cString: $0) } ?? ""
        vips_error_clear()
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        return ImagingError(code, trimmed.isEmpty ? what : "\(what): \(trimmed.replacingOccurrences(of: "\n", with: "; "))")
    }
}
