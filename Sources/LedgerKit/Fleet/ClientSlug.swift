import Crypto
import Foundation

/// Client names made into folder and prefix names: lower-case ASCII letters,
/// digits and single hyphens, at most 48 characters, never empty; two clients
/// whose names make the same slug both get the first 8 hex digits of the
/// SHA-256 of their file's full path after it (more of it, or a count, where
/// even that is taken), so two `books.db` never share a folder and each keeps
/// its own from run to run.
public enum ClientSlug {
    /// The longest slug made from a name, before any hash is added.
    static let maximumLength = 48

    /// The safe form of `name`: `Smith & Sons, Ltd.` gives `smith-sons-ltd`;
    /// a name with no letter or digit gives `client`.
    public static func safe(_ name: String) -> String {
        var slug = ""
        for scalar in name.lowercased().unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        slug = String(slug.prefix(maximumLength))
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "client" : slug
    }

    /// Whether `text` could be a slug this type makes: lower-case ASCII letters, digits
    /// and hyphens, starting with a letter or digit, at most 128 characters (a name's slug,
    /// a hash and a count). A name a location lists is taken as a client's folder only then.
    public static func isSlug(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "-"), text.utf8.count <= 128 else { return false }
        return text.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
    }

    /// Gives each named file a slug, unique among them (see the type's summary).
    /// - Parameter named: each company file's full path and the name it goes by.
    public static func assign(_ named: [(file: String, name: String)]) -> [FleetClient] {
        var seen: [String: Int] = [:]
        for entry in named { seen[safe(entry.name), default: 0] += 1 }
        var taken = Set<String>()
        return named.map { entry in
            let plain = safe(entry.name)
            var slug = plain
            if seen[plain, default: 0] > 1 || taken.contains(plain) {
                // A hashed slug may still be taken (another client's name may be that very
                // text, or the same file may be listed twice): more of the hash, then a count.
                let hash = Array(SHA256.hash(data: Data(entry.file.utf8))).hex
                var digits = 8
                var count = 1
                slug = plain + "-" + hash.prefix(digits)
                while taken.contains(slug) {
                    if digits < hash.count {
                        digits = min(digits * 2, hash.count)
                        slug = plain + "-" + hash.prefix(digits)
                    } else {
                        count += 1
                        slug = plain + "-" + hash.prefix(8) + "-\(count)"
                    }
                }
            }
            taken.insert(slug)
            return FleetClient(name: entry.name, slug: slug, file: entry.file)
        }
    }
}
