import Foundation

/// Keeps secrets out of printed configs and logs.
public enum SecretMasking {
    /// `redis://user:secret@host` → `redis://user:****@host`.
    public static func maskURL(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "****"
        return components.string ?? "****"
    }
}
