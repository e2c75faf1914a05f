import Foundation

/// A ListObjectsV2 answer: its keys and sizes, and where the next page
/// starts. The document is flat and small (a page is 1,000 keys), so it is
/// read by its tags, with XML's five entities and numeric references undone.
/// Only a whole `<ListBucketResult>` document is a listing: anything else
/// (an `<Error>` sent with 200, a page cut short) is refused, never read as
/// an empty listing, since an empty listing lets prune remove what is there.
struct ListingParser {
    private(set) var objects: [S3Client.Object] = []
    /// The folders one level down (`CommonPrefixes`), when listed with a delimiter.
    private(set) var prefixes: [String] = []
    private(set) var truncated = false
    private(set) var nextToken: String?

    /// - Throws: `S3Failure.badListing` for anything but a whole `<ListBucketResult>` document.
    static func parse(_ data: Data) throws -> ListingParser {
        guard isListing(data) else { throw S3Failure.badListing }
        let text = String(decoding: data, as: UTF8.self)
        var listing = ListingParser()
        var rest = text[...]
        while let start = rest.range(of: "<Contents>"),
            let end = rest.range(of: "</Contents>", range: start.upperBound..<rest.endIndex)
        {
            let block = rest[start.upperBound..<end.lowerBound]
            // An entry without a key, or whose size is not a count of bytes, is not to be trusted: it is left out.
            if let key = element("Key", in: block), let size = element("Size", in: block).flatMap({ Int64($0) }),
                size >= 0
            {
                listing.objects.append(
                    S3Client.Object(
                        key: key, size: size, lastModified: element("LastModified", in: block).flatMap(isoSeconds)))
            }
            rest = rest[end.upperBound...]
        }
        rest = text[...]
        while let start = rest.range(of: "<CommonPrefixes>"),
            let end = rest.range(of: "</CommonPrefixes>", range: start.upperBound..<rest.endIndex)
        {
            if let prefix = element("Prefix", in: rest[start.upperBound..<end.lowerBound]) {
                listing.prefixes.append(prefix)
            }
            rest = rest[end.upperBound...]
        }
        listing.truncated = element("IsTruncated", in: text[...]) == "true"
        listing.nextToken = element("NextContinuationToken", in: text[...])
        return listing
    }

    /// Whether `data` is one `<ListBucketResult>` document.
    static func isListing(_ data: Data) -> Bool { isDocument(data, root: "ListBucketResult") }

    /// Whether `data` is one XML document whose root is `root`: after
    /// whitespace (S3 pads a slow answer with it) and an optional XML
    /// declaration, the root element opens, and the document ends with its close.
    static func isDocument(_ data: Data, root: String) -> Bool {
        let bytes = [UInt8](data)
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        func starts(_ text: String, at index: Int) -> Bool {
            let word = Array(text.utf8)
            return index >= 0 && bytes.count - index >= word.count && Array(bytes[index..<index + word.count]) == word
        }
        var start = starts("\u{FEFF}", at: 0) ? 3 : 0
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        if starts("<?xml", at: start) {
            while start < bytes.count, !starts("?>", at: start) { start += 1 }
            start += 2
            while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        }
        let open = "<" + root
        guard starts(open, at: start), start + open.utf8.count < bytes.count else { return false }
        let after = bytes[start + open.utf8.count]
        guard after == UInt8(ascii: ">") || isSpace(after) else { return false }
        var end = bytes.count
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let close = "</\(root)>"
        return end - start > open.utf8.count + close.utf8.count && starts(close, at: end - close.utf8.count)
    }

    /// `2026-12-04T16:29:53Z` from a listing's `2026-12-04T16:29:53.000Z`
    /// (fractions of a second dropped); nil for anything else.
    static func isoSeconds(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        let whole = String(decoding: bytes[0..<19], as: UTF8.self) + "Z"
        let fraction = bytes[19..<(bytes.count - 1)]
        guard
            fraction.isEmpty
                || (fraction.first == UInt8(ascii: ".") && fraction.count > 1
                    && fraction.dropFirst().allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })),
            Timestamp.parse(whole) != nil
        else { return nil }
        return whole
    }

    /// `2026-12-04T16:29:53Z` from an HTTP date (RFC 9110's IMF-fixdate,
    /// `Fri, 04 Dec 2026 16:29:53 GMT`, as a `Last-Modified` header has it); nil for anything else.
    static func httpDateSeconds(_ text: String) -> String? {
        let parts = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", parts[1].count == 2, parts[3].count == 4,
            let month = months.firstIndex(of: String(parts[2]))
        else { return nil }
        let whole = "\(parts[3])-\(month < 9 ? "0" : "")\(month + 1)-\(parts[1])T\(parts[4])Z"
        return Timestamp.parse(whole) != nil ? whole : nil
    }

    /// The text of the first `<name>…</name>` in `text`, unescaped.
    static func element(_ name: String, in text: Substring) -> String? {
        guard let start = text.range(of: "<\(name)>"),
            let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
        else {
            return nil
        }
        return unescape(String(text[start.upperBound..<end.lowerBound]))
    }

    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number =
                    entity.hasPrefix("#x")
                    ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst()) : nil
                if let scalar = number.flatMap(Unicode.Scalar.init) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += "&\(entity);"
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
